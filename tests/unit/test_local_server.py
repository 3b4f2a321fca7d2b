"""The local stack's server reads a chunked request body as API Gateway does, within its payload limit."""

from __future__ import annotations

import io

import pytest

from local.run import TooLarge, read_chunked


def chunked(*parts: bytes, trailer: bytes = b"") -> io.BytesIO:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n" + trailer + b"\r\n"
    return io.BytesIO(body)


def test_the_chunks_make_the_body_and_what_follows_stays_unread() -> None:
    stream = chunked(b"--boundary\r\n", b"x" * 70000, b"--boundary--", trailer=b"X-Trailer: 1\r\n")
    stream.seek(0, io.SEEK_END)
    stream.write(b"NEXT REQUEST")
    stream.seek(0)
    assert read_chunked(stream, 1 << 20) == b"--boundary\r\n" + b"x" * 70000 + b"--boundary--"
    assert stream.read() == b"NEXT REQUEST"


def test_a_chunk_extension_is_ignored() -> None:
    assert read_chunked(io.BytesIO(b"3;name=value\r\nabc\r\n0\r\n\r\n"), 10) == b"abc"


def test_a_body_past_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(TooLarge):
        read_chunked(chunked(b"a" * 8, b"b" * 8), 10)


def test_a_size_that_is_not_hexadecimal_is_malformed() -> None:
    with pytest.raises(ValueError, match="base 16"):
        read_chunked(io.BytesIO(b"zz\r\nabc\r\n0\r\n\r\n"), 10)
