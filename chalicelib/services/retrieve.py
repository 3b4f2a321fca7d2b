"""WADO-RS: a clinic's stored instances as they were received, and their headers as DICOM JSON.

An answer is never held whole unless it is small: instances are read from S3 a chunk at a time.
A Lambda behind API Gateway cannot stream its response (Lambda's own response streaming needs a Node.js
or custom runtime, which Chalice's Python handler is not), and a buffered response is at most 6 MB, of
which base64 leaves about 4.5. So a multipart body up to ``MAX_INLINE_BYTES`` is the answer itself; a
larger one is streamed, chunk by chunk, into an S3 object named by what it holds, and the answer is a
redirect to a short-lived pre-signed URL of that object. Asking again for the same instances finds the
object already made.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from chalicelib.domain.errors import NotFound
from chalicelib.domain.studies import Instance, retrieve_key
from chalicelib.services.deps import Deps

#: The largest multipart body answered inline: Lambda's 6 MB payload, less base64's third, less headers.
MAX_INLINE_BYTES = 4 * 1024 * 1024
#: How much of an instance is read from S3 at once.
CHUNK_BYTES = 8 * 1024 * 1024
DICOM_JSON = "application/dicom+json"
#: How long the pre-signed URL of a large answer lives (the object itself expires by lifecycle rule).
RETRIEVE_URL_SECONDS = 300


@dataclass(frozen=True)
class Scope:
    """What a WADO-RS request names: a study, or one of its series, or one instance of that series."""

    study_instance_uid: str
    series_instance_uid: str | None = None
    sop_instance_uid: str | None = None


@dataclass(frozen=True)
class Retrieved:
    """An answer of ``content_type``: its ``body`` when small, else the ``location`` it can be fetched from."""

    content_type: str
    body: bytes | None = None
    location: str | None = None


def instances_in(clinic_id: str, scope: Scope, deps: Deps) -> list[Instance]:
    """The clinic's instances in ``scope``, in series and instance order; raises NotFound when there are none
    (another clinic's study included)."""
    found = [
        i
        for i in deps.studies.instances(clinic_id, scope.study_instance_uid)
        if scope.series_instance_uid in (None, i.header.series_instance_uid)
        and scope.sop_instance_uid in (None, i.sop_instance_uid)
    ]
    if not found:
        raise NotFound("No such study, series or instance")
    return found


def retrieve(clinic_id: str, scope: Scope, deps: Deps, *, max_inline: int = MAX_INLINE_BYTES) -> Retrieved:
    """The instances in ``scope`` as ``multipart/related; type="application/dicom"``, each as stored."""
    instances = instances_in(clinic_id, scope, deps)
    digest = _digest(instances)
    boundary = f"wado-{digest[:32]}"
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    if multipart_length(boundary, [i.size for i in instances]) <= max_inline:
        return Retrieved(content_type, body=b"".join(_pieces(instances, boundary, deps)))
    # Buffered: a read of n bytes then gives n bytes (but at the end), as S3's part uploads expect.
    body = io.BufferedReader(_Stream(_pieces(instances, boundary, deps)), CHUNK_BYTES)
    return _kept(clinic_id, digest, body, content_type, deps)


def metadata(clinic_id: str, scope: Scope, deps: Deps, *, max_inline: int = MAX_INLINE_BYTES) -> Retrieved:
    """The DICOM JSON of each instance in ``scope``, read from its header only (never its pixel data).

    Headers are small, but a study of thousands of slices can still pass the inline limit: it is then
    answered as a large retrieve is.
    """
    from chalicelib.media.dicom_file import dicom_json, read_header

    instances = instances_in(clinic_id, scope, deps)
    answers = []
    for instance in instances:
        with deps.objects.open(deps.buckets.ingest, instance.object_key) as reader:
            answers.append(dicom_json(read_header(reader)))
    body = json.dumps(answers, separators=(",", ":")).encode()
    if len(body) <= max_inline:
        return Retrieved(DICOM_JSON, body=body)
    return _kept(clinic_id, f"{_digest(instances)}-metadata", io.BytesIO(body), DICOM_JSON, deps)


def _digest(instances: list[Instance]) -> str:
    """A name for what the instances hold: their keys carry the upload, so a re-sent instance changes it."""
    return hashlib.sha256("\n".join(f"{i.object_key}:{i.size}" for i in instances).encode()).hexdigest()


def _kept(clinic_id: str, name: str, body: BinaryIO, content_type: str, deps: Deps) -> Retrieved:
    """An answer kept in S3 (made now unless it already is), to be fetched from a pre-signed URL."""
    key = retrieve_key(clinic_id, name)
    try:
        deps.objects.size(deps.buckets.ingest, key)
    except NotFound:
        deps.objects.upload_stream(deps.buckets.ingest, key, body, content_type)
    url = deps.objects.presigned_get(
        deps.buckets.ingest, key, expires_s=RETRIEVE_URL_SECONDS, content_type=content_type
    )
    return Retrieved(content_type, location=url)


def multipart_length(boundary: str, sizes: list[int]) -> int:
    """The length of a multipart body of parts of ``sizes`` bytes (as ``_pieces`` writes it)."""
    return sum(len(_part_head(boundary)) + size + 2 for size in sizes) + len(_closing(boundary))


def _part_head(boundary: str) -> bytes:
    return f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()


def _closing(boundary: str) -> bytes:
    return f"--{boundary}--\r\n".encode()


def _pieces(instances: list[Instance], boundary: str, deps: Deps) -> Iterator[bytes]:
    """The multipart body, piece by piece: each instance is opened when reached and read a chunk at a time."""
    for instance in instances:
        yield _part_head(boundary)
        with deps.objects.open(deps.buckets.ingest, instance.object_key) as reader:
            while chunk := reader.read(CHUNK_BYTES):
                yield chunk
        yield b"\r\n"
    yield _closing(boundary)


class _Stream(io.RawIOBase):
    """A readable stream over pieces of bytes, holding one piece at a time."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._pending = memoryview(piece)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count
