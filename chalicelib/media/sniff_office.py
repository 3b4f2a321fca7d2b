"""Telling office documents from other ZIP and OLE2 (Compound File) containers.

OOXML (docx/xlsx/pptx) and OpenDocument (odt/ods/odp) are ZIP files: the ZIP's central directory
and the package's declared main part decide, so a plain ZIP, a macro-enabled document (docm, xlsm,
pptm) or a template is not taken for an accepted document. Legacy Office files (doc/xls/ppt) are
Compound Files whose directory names the main stream; files carrying VBA macros are refused.
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO

ZIP_MIME = "application/zip"
CFB_MIME = "application/x-ole-storage"

# Reading more than this from one ZIP member would be a zip bomb, not a content-types file.
_MAX_MEMBER_BYTES = 256 * 1024

# Main-part content types in [Content_Types].xml → the document's MIME type.
_OOXML_MAIN_PARTS = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
    b"application/vnd.ms-word.document.macroEnabled.main+xml": "application/vnd.ms-word.document.macroEnabled.12",
    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml": "application/vnd.ms-excel.sheet.macroEnabled.12",
    b"application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": (
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12"
    ),
}
_OOXML_PACKAGE = "application/vnd.openxmlformats-package"  # some other OOXML part (template, add-in…)

# Compound File stream names (see [MS-DOC], [MS-XLS], [MS-PPT]) → the document's MIME type.
_CFB_MAIN_STREAMS = {
    "WordDocument": "application/msword",
    "Workbook": "application/vnd.ms-excel",
    "Book": "application/vnd.ms-excel",  # BIFF5, Excel 95
    "PowerPoint Document": "application/vnd.ms-powerpoint",
}
_CFB_MACRO_STORAGES = frozenset({"Macros", "_VBA_PROJECT_CUR", "VBA", "_VBA_PROJECT"})
_CFB_MACRO_MIME = "application/vnd.ms-office.vbaproject"
_CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CFB_ENTRY_BYTES = 128
_CFB_STORAGE, _CFB_STREAM, _CFB_ROOT = 1, 2, 5


def zip_document_type(file: BinaryIO) -> str:
    """The MIME type of a ZIP-based file: an office document's type, or ``application/zip``."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = _read_member(archive, "mimetype").strip()
                if declared.startswith(b"application/vnd.oasis.opendocument."):
                    return declared.decode("ascii", errors="replace")
            if "[Content_Types].xml" in names:
                content_types = _read_member(archive, "[Content_Types].xml")
                for main_part, mime in _OOXML_MAIN_PARTS.items():
                    if main_part in content_types:
                        return mime
                return _OOXML_PACKAGE
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return ZIP_MIME
    return ZIP_MIME


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > _MAX_MEMBER_BYTES:
        return b""
    with archive.open(info) as member:
        return member.read(_MAX_MEMBER_BYTES)


def is_compound_file(head: bytes) -> bool:
    """True when the bytes start with the OLE2 Compound File signature."""
    return head.startswith(_CFB_SIGNATURE)


def compound_document_type(data: bytes) -> str:
    """The MIME type of a Compound File: doc/xls/ppt by its main stream, else a generic OLE type.

    Directory entries are 128-byte records at 128-byte-aligned offsets (sectors are 512 or 4096
    bytes), so every aligned slot is checked for a well-formed entry instead of walking the FAT: a
    damaged FAT then cannot hide the directory, and the scan needs no parser state.
    """
    names = _compound_entry_names(data)
    if names & _CFB_MACRO_STORAGES:
        return _CFB_MACRO_MIME
    for stream, mime in _CFB_MAIN_STREAMS.items():
        if stream in names:
            return mime
    return CFB_MIME


def _compound_entry_names(data: bytes) -> set[str]:
    names: set[str] = set()
    for offset in range(512, len(data) - _CFB_ENTRY_BYTES + 1, _CFB_ENTRY_BYTES):
        (name_bytes,) = struct.unpack_from("<H", data, offset + 64)
        entry_type = data[offset + 66]
        if not (2 <= name_bytes <= 64 and name_bytes % 2 == 0):
            continue
        if entry_type not in (_CFB_STORAGE, _CFB_STREAM, _CFB_ROOT):
            continue
        raw = data[offset : offset + name_bytes]
        if raw[-2:] != b"\x00\x00":
            continue
        try:
            names.add(raw[:-2].decode("utf-16-le"))
        except UnicodeDecodeError:
            continue
    return names
