from __future__ import annotations

import pytest

from chalicelib.media.attachment_types import (
    ALLOWED_TYPES,
    MAX_ATTACHMENT_BYTES,
    classify_declared,
    family_of,
    is_allowed,
)


def test_the_size_limit_is_ten_mebibytes() -> None:
    assert MAX_ATTACHMENT_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("declared", "family"),
    [
        ("image/jpeg", "image"),
        ("IMAGE/JPEG", "image"),
        ("image/jpg", "image"),
        ("image/heic", "image"),
        ("image/webp", "image"),
        ("video/mp4", "video"),
        ("video/quicktime", "video"),
        ("video/webm", "video"),
        ("application/pdf", "document"),
        ("text/plain; charset=utf-8", "document"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
        ("application/vnd.oasis.opendocument.spreadsheet", "document"),
        ("application/msword", "document"),
        ("text/rtf", "document"),
    ],
)
def test_declared_types_on_the_list(declared: str, family: str) -> None:
    assert classify_declared(declared) == family


@pytest.mark.parametrize(
    "declared",
    [
        "audio/mpeg",
        "audio/wav",
        "audio/ogg; codecs=opus",
        "audio/mp4",
        "audio/webm",
        "application/zip",
        "application/octet-stream",
        "text/html",
        "image/svg+xml",
        "video/x-matroska",
        "application/vnd.ms-word.document.macroEnabled.12",
        "",
    ],
)
def test_declared_types_refused(declared: str) -> None:
    assert classify_declared(declared) is None


def test_no_audio_type_is_on_the_allow_list() -> None:
    assert not [mime for mime in ALLOWED_TYPES if mime.startswith("audio/")]


@pytest.mark.parametrize(
    ("mime", "family", "allowed"),
    [
        ("image/png", "image", True),
        ("audio/flac", "audio", False),
        ("audio/x-anything", "audio", False),
        ("application/zip", "other", False),
        ("video/x-msvideo", "other", False),
    ],
)
def test_family_of_sniffed_types(mime: str, family: str, allowed: bool) -> None:
    assert family_of(mime) == family
    assert is_allowed(family_of(mime)) is allowed
