"""Which files the visit chat accepts: the allow-list, as data.

A type is decided twice: the upload route checks the *declared* Content-Type with
``classify_declared`` (a cheap first gate, and the type S3 will store), and the attachment worker
sniffs the *bytes* with ``sniff.sniff`` and keeps the file only if the sniffed type is on this list.
Audio is refused everywhere (the chat is not for voice messages, which can hold more than a clinic
should keep); it has its own family so the refusal can say so.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal

Family = Literal["image", "video", "document", "audio", "other"]

# 10 MiB: the largest attachment, in bytes, either way.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

# Sniffed MIME type → (family, the one extension a file of this type is served under). Exactly the types
# the chat accepts. The extension is ours, not the sender's: systems decide by the name's extension what
# opening a file does (Windows runs ``.hta`` and ``.bat``), and the type was decided from the bytes.
_ALLOWED: MappingProxyType[str, tuple[Family, str]] = MappingProxyType(
    {
        "application/pdf": ("document", ".pdf"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", ".docx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", ".xlsx"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", ".pptx"),
        "application/vnd.oasis.opendocument.text": ("document", ".odt"),
        "application/vnd.oasis.opendocument.spreadsheet": ("document", ".ods"),
        "application/vnd.oasis.opendocument.presentation": ("document", ".odp"),
        "application/msword": ("document", ".doc"),
        "application/vnd.ms-excel": ("document", ".xls"),
        "application/vnd.ms-powerpoint": ("document", ".ppt"),
        "application/rtf": ("document", ".rtf"),
        "text/plain": ("document", ".txt"),
        "image/jpeg": ("image", ".jpg"),
        "image/png": ("image", ".png"),
        "image/gif": ("image", ".gif"),
        "image/webp": ("image", ".webp"),
        "image/heic": ("image", ".heic"),
        "image/heif": ("image", ".heif"),
        "video/mp4": ("video", ".mp4"),
        "video/quicktime": ("video", ".mov"),
        "video/webm": ("video", ".webm"),
    }
)

#: Sniffed MIME type → family, for exactly the allowed types.
ALLOWED_TYPES: MappingProxyType[str, Family] = MappingProxyType({m: family for m, (family, _) in _ALLOWED.items()})
#: Allowed MIME type → the extension its files are served under.
EXTENSIONS: MappingProxyType[str, str] = MappingProxyType({m: extension for m, (_, extension) in _ALLOWED.items()})

# Other spellings browsers and operating systems declare for the same allowed types.
DECLARED_ALIASES: MappingProxyType[str, str] = MappingProxyType(
    {
        "image/jpg": "image/jpeg",
        "image/pjpeg": "image/jpeg",
        "text/rtf": "application/rtf",
        "video/x-m4v": "video/mp4",
    }
)


def family_of(mime: str) -> Family:
    """The family of a sniffed MIME type: its allow-list family, "audio" for any audio, else "other"."""
    mime = mime.strip().lower()
    if mime in ALLOWED_TYPES:
        return ALLOWED_TYPES[mime]
    return "audio" if mime.startswith("audio/") else "other"


def is_allowed(family: Family) -> bool:
    """True for the families the chat keeps."""
    return family in ("image", "video", "document")


def classify_declared(content_type: str) -> Family | None:
    """The family of a declared Content-Type on the allow-list, or None to refuse the upload.

    Parameters (``; charset=utf-8``) and case are ignored. Refused: every ``audio/*``, and anything
    not on the list, including ``application/octet-stream`` and ``application/zip``.
    """
    mime = content_type.split(";", 1)[0].strip().lower()
    mime = DECLARED_ALIASES.get(mime, mime)
    return ALLOWED_TYPES.get(mime)


def extension_of(mime: str) -> str:
    """The extension a file of an allowed type is served under (``.txt`` for text/plain); KeyError otherwise."""
    return EXTENSIONS[mime.split(";", 1)[0].strip().lower()]
