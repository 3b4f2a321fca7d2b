"""Reading and writing DICOM Part 10 files around the Pixel Data, which we never hold whole.

A file is read as three pieces: the header (everything before the pixel data element, parsed by pydicom),
the pixel data element (located by its offsets only), and the trailing elements after it (parsed so the
profile applies to them too: nothing can hide after the pixels unprocessed).
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from typing import BinaryIO, Final, cast

from pydicom.charset import default_encoding
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_data_element, write_dataset
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian

from chalicelib.domain.anonymization.errors import NotDicom
from chalicelib.media.dicom_frames import read_part10

# Our own Implementation Class UID (a 2.25 UUID UID), so a copy says which software de-identified it.
IMPLEMENTATION_CLASS_UID: Final = "2.25.271418095813146305858254339935806335011"
IMPLEMENTATION_VERSION_NAME: Final = "PATIENT_SHARE_1"

_COPY_CHUNK: Final = 1 << 20
_PIXEL_TAGS: Final = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
_ITEM: Final = 0xFFFEE000
_SEQUENCE_DELIMITER: Final = 0xFFFEE0DD
_UNDEFINED_LENGTH: Final = 0xFFFFFFFF
_LONG_LENGTH_VRS: Final = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"})
# Trailing values longer than this are read only if the profile keeps them (padding can be megabytes).
_DEFER_BYTES: Final = 64 * 1024


@dataclass(frozen=True)
class PixelDataElement:
    """Where the pixel data element sits in the source: [start, end) spans its header and value."""

    start: int
    end: int


def read_header(source: BinaryIO) -> FileDataset:
    """The dataset up to the pixel data (whole dataset for deflated files, which cannot be split).

    Raises NotDicom for anything that is not a Part 10 file pydicom can parse.
    """
    try:
        header = read_part10(source, stop_before_pixels=True)
        if is_deflated(header):
            source.seek(0)
            header = read_part10(source)
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, struct.error) as err:
        raise NotDicom("the input is not a DICOM file we can read") from err
    if "TransferSyntaxUID" not in header.file_meta:
        raise NotDicom("the input has no transfer syntax in its file meta information")
    return header


def is_deflated(header: FileDataset) -> bool:
    """True when the dataset is deflated, so the pixel data has no offset of its own in the file."""
    return bool(header.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian)


def locate_pixel_data(source: BinaryIO, header: FileDataset) -> PixelDataElement | None:
    """The pixel data element following ``header`` in ``source`` (positioned right after the header)."""
    start = source.tell()
    implicit_vr, little_endian = _encoding(header)
    endian = "<" if little_endian else ">"
    head = source.read(8)
    if len(head) < 8:
        return None
    group, element = struct.unpack(f"{endian}HH", head[:4])
    if (group << 16 | element) not in _PIXEL_TAGS:
        raise NotDicom(f"expected pixel data at offset {start}")
    vr = head[4:6]
    if implicit_vr or not (vr.isalpha() and vr.isupper()):  # some writers go implicit whatever the syntax
        (length,) = struct.unpack(f"{endian}L", head[4:])
    elif vr in _LONG_LENGTH_VRS:
        (length,) = struct.unpack(f"{endian}L", _read_exactly(source, 4))
    else:
        (length,) = struct.unpack(f"{endian}H", head[6:])
    end = source.tell() + length if length != _UNDEFINED_LENGTH else _end_of_encapsulated(source, endian)
    if end > _size(source):
        raise NotDicom("the pixel data is truncated")
    return PixelDataElement(start, end)


def read_trailing(source: BinaryIO, after: int, header: FileDataset) -> Dataset:
    """The elements after the pixel data, with values the profile may drop left unread until needed.

    Deferred values are read from ``source`` by pydicom when the profile or the writer asks for them, so
    ``source`` must stay open while the returned dataset is used. Bytes that do not parse as elements are
    dropped: they are not a dataset a viewer could show, and we cannot know what they hold.
    """
    source.seek(after)
    try:
        trailing = read_dataset(source, *_encoding(header), defer_size=_DEFER_BYTES)
    except (EOFError, OSError, ValueError, KeyError, TypeError, struct.error):
        return Dataset()
    # What pydicom's deferred reading looks for on a dataset read from a file (it is a FileDataset's job).
    trailing.filename, trailing.buffer, trailing.fileobj_type, trailing.timestamp = None, source, open, None
    for tag in list(trailing.keys()):
        if tag <= 0x7FE00010:
            del trailing[tag]  # out of order: a broken file, and not ours to fix
    return trailing


class Part10Writer:
    """Writes a Part 10 file piece by piece: preamble, meta and header, then raw pixel bytes and the rest.

    The target only needs ``write``: each dataset is encoded in memory first (headers are small), so the
    copy can go to a pipe or an upload stream as well as to a file.
    """

    def __init__(self, target: BinaryIO, transfer_syntax_uid: str) -> None:
        self._target = target
        self._transfer_syntax = UID(transfer_syntax_uid)
        self._implicit_vr = self._transfer_syntax.is_implicit_VR
        self._little_endian = self._transfer_syntax.is_little_endian

    def write_header(self, dataset: Dataset, sop_class_uid: str, sop_instance_uid: str) -> None:
        """Write the preamble, new File Meta Information and ``dataset``.

        Nothing of the original preamble or meta survives: the preamble can hold anything (TIFF headers
        with names included) and the meta holds AE titles.
        """
        meta = _file_meta(sop_class_uid, sop_instance_uid, self._transfer_syntax)
        self._target.write(b"\0" * 128 + b"DICM" + meta + self._encode(dataset))

    def write_dataset(self, dataset: Dataset) -> None:
        """Write ``dataset`` (elements that follow the pixel data) in the file's transfer syntax."""
        self._target.write(self._encode(dataset))

    def _encode(self, dataset: Dataset) -> bytes:
        tags = sorted(dataset.keys())
        for tag in [tag for tag in tags if tag >> 16 in (0x0000, 0x0002)]:
            del dataset[tag]  # Part 10 keeps command elements out and meta elements in the meta header
        encoded = DicomBytesIO()
        encoded.is_implicit_VR, encoded.is_little_endian = self._implicit_vr, self._little_endian
        if _encoding(dataset) != (self._implicit_vr, self._little_endian):
            write_dataset(encoded, dataset)  # a new encoding: pydicom converts VRs and values
            return encoded.getvalue()
        # Same encoding: elements the profile did not touch are still the bytes read from the source, and
        # are written back as they are. pydicom's writer would do the same, at several times the cost.
        endian = "<" if self._little_endian else ">"
        character_set = dataset.get("SpecificCharacterSet") or default_encoding
        for tag in tags:
            if tag >> 16 in (0x0000, 0x0002):
                continue
            element: object = dataset.get_item(tag, keep_deferred=True)  # typed as converted; may be raw
            if isinstance(element, RawDataElement) and _is_plain(element, self._implicit_vr, self._little_endian):
                value = element.value or b""
                encoded.write(_element_header(tag, element.VR, len(value), self._implicit_vr, endian) + value)
            else:
                write_data_element(encoded, dataset[tag], character_set)
        return encoded.getvalue()

    def write(self, data: bytes | memoryview) -> None:
        """Write bytes as they are."""
        self._target.write(data)

    def copy_from(self, source: BinaryIO, start: int, end: int) -> None:
        """Copy bytes [start, end) of ``source`` through one reused buffer, never holding them all.

        A plain read/write loop: on Linux it matched a kernel copy (sendfile, copy_file_range) when the
        element sits at the same offset in both files and beat it by a third otherwise (138 MB: 42 ms
        against 61 ms), and it works for any pair of streams.
        """
        source.seek(start)
        buffer = bytearray(min(_COPY_CHUNK, end - start))
        view = memoryview(buffer)
        remaining = end - start
        while remaining:
            count = cast(io.BufferedIOBase, source).readinto(view[: min(remaining, len(buffer))])
            if not count:
                raise NotDicom("the input ended inside the pixel data")
            self._target.write(view[:count])
            remaining -= count


def _file_meta(sop_class_uid: str, sop_instance_uid: str, transfer_syntax: UID) -> bytes:
    """File Meta Information describing our copy."""
    elements = [
        _meta_element(0x0001, "OB", b"\x00\x01"),
        _meta_element(0x0002, "UI", _uid_bytes(sop_class_uid)),
        _meta_element(0x0003, "UI", _uid_bytes(sop_instance_uid)),
        _meta_element(0x0010, "UI", _uid_bytes(transfer_syntax)),
        _meta_element(0x0012, "UI", _uid_bytes(IMPLEMENTATION_CLASS_UID)),
        _meta_element(0x0013, "SH", IMPLEMENTATION_VERSION_NAME.encode().ljust(16)),
    ]
    group = b"".join(elements)
    return _meta_element(0x0000, "UL", struct.pack("<L", len(group))) + group


def _meta_element(element: int, vr: str, value: bytes) -> bytes:
    return _element_header(0x00020000 | element, vr, len(value), False, "<") + value


def _uid_bytes(uid: str) -> bytes:
    value = uid.encode("ascii")
    return value + b"\0" * (len(value) % 2)


def _element_header(tag: int, vr: str | None, length: int, implicit_vr: bool, endian: str) -> bytes:
    if implicit_vr:
        return struct.pack(f"{endian}HHL", tag >> 16, tag & 0xFFFF, length)
    if vr is not None and vr.encode() in _LONG_LENGTH_VRS:
        return struct.pack(f"{endian}HH2sHL", tag >> 16, tag & 0xFFFF, vr.encode(), 0, length)
    return struct.pack(f"{endian}HH2sH", tag >> 16, tag & 0xFFFF, (vr or "UN").encode(), length)


def _is_plain(element: RawDataElement, implicit_vr: bool, little_endian: bool) -> bool:
    """A raw element read in our encoding, with its value in memory and a defined length."""
    return (
        element.is_implicit_VR == implicit_vr
        and element.is_little_endian == little_endian
        and (element.value is not None or element.length == 0)
        and element.length != _UNDEFINED_LENGTH
        and (implicit_vr or element.VR is not None)
    )


def _encoding(dataset: Dataset) -> tuple[bool, bool]:
    implicit_vr, little_endian = dataset.original_encoding
    return bool(implicit_vr), little_endian is not False


def _end_of_encapsulated(source: BinaryIO, endian: str) -> int:
    # Walk the item headers only, seeking over each fragment: the fragments themselves are never read.
    while True:
        head = _read_exactly(source, 8)
        group, element, length = struct.unpack(f"{endian}HHL", head)
        tag = group << 16 | element
        if tag == _SEQUENCE_DELIMITER:
            return source.tell()
        if tag != _ITEM or length == _UNDEFINED_LENGTH:
            raise NotDicom(f"malformed encapsulated pixel data at offset {source.tell() - 8}")
        source.seek(length, os.SEEK_CUR)


def _read_exactly(source: BinaryIO, count: int) -> bytes:
    data = source.read(count)
    if len(data) != count:
        raise NotDicom("the input ended inside an element")
    return data


def _size(source: BinaryIO) -> int:
    position = source.tell()
    size = source.seek(0, os.SEEK_END)
    source.seek(position)
    return size
