"""The one reader of DICOM Part 10 files, built on pydicom: ingest, the anonymizer and the renderers agree
on what a file is.

A file is read as its header (everything before the pixel data, parsed by pydicom, which never reads the
pixels), then its pixel data element is located by offsets only, so a cine of hundreds of megabytes costs a
few kilobytes to understand. What a transfer syntax is (its name, compressed or not, decodable here) is
asked of pydicom; the only thing pydicom 3.0 does not say is which compressed syntaxes are lossless.

Errors are :class:`UnreadableDicom`; their messages name the problem, never a value from the file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from chalicelib.media.errors import UnreadableDicom
from chalicelib.media.sources import LocalPath

if TYPE_CHECKING:
    from pydicom.dataset import Dataset, FileDataset
    from pydicom.uid import UID

_PIXEL_TAGS: Final = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})  # Float, Double Float and Pixel Data
_ITEM: Final = 0xFFFEE000
_SEQUENCE_DELIMITER: Final = 0xFFFEE0DD
_UNDEFINED_LENGTH: Final = 0xFFFFFFFF
_LONG_LENGTH_VRS: Final = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"})
# What pydicom raises on a file it cannot parse, besides InvalidDicomError.
_PARSE_ERRORS: Final = (EOFError, OSError, ValueError, KeyError, TypeError, NotImplementedError, struct.error)
# The compressed transfer syntaxes that keep every stored value (pydicom 3.0's UID has no is_lossless).
_LOSSLESS_COMPRESSED: Final = frozenset(
    {
        "1.2.840.10008.1.2.4.57",  # JPEG Lossless, Non-Hierarchical (Process 14)
        "1.2.840.10008.1.2.4.70",  # JPEG Lossless, Non-Hierarchical, First-Order Prediction
        "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless Image Compression
        "1.2.840.10008.1.2.4.90",  # JPEG 2000 Image Compression (Lossless Only)
        "1.2.840.10008.1.2.4.92",  # JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)
        "1.2.840.10008.1.2.4.201",  # High-Throughput JPEG 2000 Image Compression (Lossless Only)
        "1.2.840.10008.1.2.4.202",  # High-Throughput JPEG 2000 with RPCL Options (Lossless Only)
        "1.2.840.10008.1.2.5",  # RLE Lossless
    }
)


@dataclass(frozen=True)
class PixelDataElement:
    """Where the pixel data element sits in its file.

    ``start`` is the offset of its tag, ``value_start`` of its value; ``length`` is None for encapsulated
    (undefined length) pixel data, whose end only a walk over its items finds (:func:`pixel_data_end`).
    """

    start: int
    value_start: int
    length: int | None


#: Explicit VRs the file meta information (group 0002) is written with.
_META_VRS = frozenset({b"UL", b"OB", b"UI", b"SH", b"AE", b"UN"})


def read_part10(file: BinaryIO, *, stop_before_pixels: bool = False) -> FileDataset:
    """``dcmread`` of a seekable Part 10 stream, also one without its 128-byte preamble and ``DICM``
    whose file meta information (group 0002) opens it.

    That is what pydicom 3 writes for an in-memory ``Dataset``, and so what ``dicomweb-client`` sends;
    Orthanc and dcm4chee store it too. Anything else without ``DICM`` is still refused
    (``InvalidDicomError``): forcing any stream would make noise look like an image.
    """
    from pydicom import dcmread

    start = file.tell()
    head = file.read(132)
    file.seek(start)
    headless = head[128:132] != b"DICM" and head[:2] == b"\x02\x00" and head[4:6] in _META_VRS
    return dcmread(file, stop_before_pixels=stop_before_pixels, force=headless)


def read_header(source: BinaryIO | LocalPath) -> FileDataset:
    """The dataset up to the pixel data; a file object is left at the pixel data element (if there is one).

    A deflated file is read whole: its body is one deflate stream, with no offsets to stop at.
    """
    from pydicom.errors import InvalidDicomError

    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return read_header(file)
    try:
        start = source.tell()
        header = read_part10(source, stop_before_pixels=True)
        if is_deflated(header):
            source.seek(start)
            header = read_part10(source)
    except InvalidDicomError as err:
        raise UnreadableDicom("The file is not DICOM (no DICM preamble or readable header)") from err
    except _PARSE_ERRORS as err:
        raise UnreadableDicom("The DICOM header is truncated or malformed") from err
    return header


def transfer_syntax(header: Dataset) -> UID | None:
    """The Transfer Syntax UID of the file meta, None when there is none."""
    file_meta = getattr(header, "file_meta", None)
    value = file_meta.get("TransferSyntaxUID") if file_meta is not None else None
    return value or None


def is_deflated(header: Dataset) -> bool:
    """True for a deflated dataset (its pixel data has no offset of its own in the file)."""
    uid = transfer_syntax(header)
    return bool(uid is not None and uid.is_deflated)


def can_decode(uid: str) -> bool:
    """True when pydicom, with the plugins installed here, decodes pixel data of transfer syntax ``uid``."""
    from pydicom.pixels.decoders.base import get_decoder

    try:
        return bool(get_decoder(uid).is_available)
    except NotImplementedError:
        return False


def is_lossless(uid: str) -> bool:
    """True when transfer syntax ``uid`` keeps every stored value (native, deflated or a lossless codec)."""
    from pydicom.uid import UID

    return not UID(uid).is_compressed or uid in _LOSSLESS_COMPRESSED


def stored_losslessly(header: Dataset) -> bool:
    """True when the pixels never went through a lossy codec: a lossless syntax, and not marked lossy."""
    uid = transfer_syntax(header)
    return uid is not None and is_lossless(uid) and str(header.get("LossyImageCompression", "")).strip() != "01"


def has_image(header: Dataset) -> bool:
    """True when the object describes an image (SR, KOS, PR and other non-image objects do not)."""
    return all(keyword in header for keyword in ("Rows", "Columns", "BitsAllocated"))


def locate_pixel_data(source: BinaryIO, header: Dataset) -> PixelDataElement | None:
    """The pixel data element at the current position of ``source`` (where :func:`read_header` left it).

    None when no pixel data element follows (or the file is deflated). Raises UnreadableDicom when the file
    ends before a defined-length value does, or leaves no room for an encapsulated one's first item.
    """
    if is_deflated(header):
        return None
    start = source.tell()
    head = source.read(12)
    endian = "<" if _little_endian(header) else ">"
    if len(head) < 8:
        return None
    group, number = struct.unpack(f"{endian}HH", head[:4])
    if group << 16 | number not in _PIXEL_TAGS:
        return None
    vr = head[4:6]
    # Some writers go implicit whatever the syntax says; the bytes tell.
    if header.original_encoding[0] or not (vr.isalpha() and vr.isupper()):
        (length,), header_size = struct.unpack(f"{endian}L", head[4:8]), 8
    elif vr in _LONG_LENGTH_VRS:
        if len(head) < 12:
            raise UnreadableDicom("The file is truncated: its pixel data ends early")
        (length,), header_size = struct.unpack(f"{endian}L", head[8:12]), 12
    else:
        (length,), header_size = struct.unpack(f"{endian}H", head[6:8]), 8
    remaining = _size(source) - start - header_size
    if length == _UNDEFINED_LENGTH:
        if remaining < 16:  # at least the offset table's item header and the sequence delimiter
            raise UnreadableDicom("The file is truncated: its pixel data ends early")
        return PixelDataElement(start, start + header_size, None)
    if remaining < length:
        raise UnreadableDicom("The file is truncated: its pixel data ends early")
    return PixelDataElement(start, start + header_size, length)


def pixel_data_end(source: BinaryIO, element: PixelDataElement, header: Dataset) -> int:
    """The offset just past the pixel data element; for encapsulated data, found by walking the item
    headers only, seeking over each fragment."""
    if element.length is not None:
        return element.value_start + element.length
    endian = "<" if _little_endian(header) else ">"
    size = _size(source)
    source.seek(element.value_start)
    while True:
        head = source.read(8)
        if len(head) < 8:
            raise UnreadableDicom("The file is truncated: its pixel data ends early")
        group, number, length = struct.unpack(f"{endian}HHL", head)
        tag = group << 16 | number
        if tag == _SEQUENCE_DELIMITER:
            return source.tell()
        if tag != _ITEM or length == _UNDEFINED_LENGTH:
            raise UnreadableDicom(f"Malformed encapsulated pixel data at offset {source.tell() - 8}")
        if source.tell() + length > size:
            raise UnreadableDicom("The file is truncated: its pixel data ends early")
        source.seek(length, os.SEEK_CUR)


def _little_endian(header: Dataset) -> bool:
    return header.original_encoding[1] is not False


def _size(source: BinaryIO) -> int:
    position = source.tell()
    size = source.seek(0, os.SEEK_END)
    source.seek(position)
    return size


#: Binary values this long or longer (pixel data, overlays, icon images, waveforms) are left out of DICOM
#: JSON: a header answer stays small, and what they hold is in the instance itself.
BULK_DATA_BYTES = 1024
_LEFT_OUT = "bulk data left out"


def dicom_json(header: Dataset) -> dict[str, Any]:
    """The DICOM JSON model (PS3.18 Annex F) of a dataset read by :func:`read_header`.

    Bulk data (binary values of ``BULK_DATA_BYTES`` or more, at any depth) is left out rather than given a
    ``BulkDataURI``: there is no bulk data resource to point to. Values pydicom cannot convert are left
    out too (``suppress_invalid_tags``), so one sloppy element never costs the whole header.
    """
    converted = header.to_json_dict(
        bulk_data_threshold=BULK_DATA_BYTES * 4 // 3,  # pydicom counts in base64 characters
        bulk_data_element_handler=lambda _element: _LEFT_OUT,
        suppress_invalid_tags=True,
    )
    _drop_bulk(converted)
    return converted


def _drop_bulk(attributes: dict[str, Any]) -> None:
    pending = [attributes]  # walked without recursion, like every other walk over a header
    while pending:
        current = pending.pop()
        for tag in [t for t, v in current.items() if v.get("BulkDataURI") == _LEFT_OUT]:
            del current[tag]
        for value in current.values():
            if value.get("vr") == "SQ":
                pending.extend(item for item in value.get("Value", []) if isinstance(item, dict))
