"""What a file is, from its bytes alone — never its name or the type the uploader declared.

Flat signatures (JPEG, PNG, GIF, WebP, PDF, RTF, MP3, WAV, FLAC, AAC, AMR, MIDI…) come from
``filetype``: pure Python, no libmagic and no data files to ship to Lambda, a few kilobytes of the
file's start, and, unlike ``puremagic`` (tried too), it does not take a plain ZIP for a docx nor an
M4A for an MP4. Containers whose signature cannot tell the allowed from the refused are opened
further: ZIP and Compound Files (``sniff_office``), ISO-BMFF, Matroska/WebM and Ogg
(``sniff_containers``, audio vs video). What no signature claims may be plain text (``plain_text``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import filetype

from chalicelib.media import sniff_containers, sniff_office
from chalicelib.media.attachment_types import MAX_ATTACHMENT_BYTES, Family, family_of
from chalicelib.media.plain_text import text_kind
from chalicelib.media.sources import LocalPath

EMPTY_MIME = "application/x-empty"

# Enough for every signature filetype knows (it reads 8 KiB) and for an MP4's ftyp box.
_HEAD_BYTES = 8 * 1024

# filetype's names for a few types → the registered IANA names used in the allow-list.
_CANONICAL = {
    "audio/x-wav": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/x-aiff": "audio/aiff",
    "image/x-icon": "image/vnd.microsoft.icon",
}


@dataclass(frozen=True)
class Sniffed:
    """The type found in a file's bytes and the family deciding whether the chat keeps it."""

    mime: str
    family: Family


def sniff(src: LocalPath | bytes) -> Sniffed:
    """Sniff a local file (path) or its bytes; see the module doc for how each type is decided."""
    mime = _sniff_mime(src)
    return Sniffed(mime=mime, family=family_of(mime))


def _sniff_mime(src: LocalPath | bytes) -> str:
    with _open(src) as file:
        head = file.read(_HEAD_BYTES)
        if not head:
            return EMPTY_MIME
        if sniff_containers.is_isobmff(head):
            return sniff_containers.isobmff_type(head, file)
        if sniff_containers.is_matroska(head):
            return sniff_containers.matroska_type(head, file)
        if sniff_containers.is_ogg(head):
            return sniff_containers.ogg_type(file)
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return sniff_office.zip_document_type(file)
        if sniff_office.is_compound_file(head):
            file.seek(0)
            # The allow-list caps files at 10 MiB; the directory of a bigger one is still near its start.
            return sniff_office.compound_document_type(file.read(2 * MAX_ATTACHMENT_BYTES))
        guessed = filetype.guess(head)
        if guessed is not None:
            mime = str(guessed.mime)
            return _CANONICAL.get(mime, mime)
        kind = text_kind(file)
        if kind == "text/plain":
            return "text/plain"
        if kind == "text/markup":
            return "text/html"
        return sniff_containers.OTHER_BINARY


@contextmanager
def _open(src: LocalPath | bytes) -> Iterator[BinaryIO]:
    if isinstance(src, bytes | bytearray | memoryview):
        yield io.BytesIO(bytes(src))
        return
    with open(os.fspath(src), "rb") as file:
        yield file
