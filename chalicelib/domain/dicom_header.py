"""What the study index keeps of a DICOM instance, read from its header only.

Pixel data is never read here: the file is read by ``media.dicom_file`` (the one reader the anonymizer and
the renderers use too), which stops before it, so a cine of hundreds of MB costs a few kilobytes. The
outcome is either a ``Header`` or an ``Unreadable`` error whose ``reason`` is shown to the clinic (it names
the problem, never a patient value). Transfer syntaxes whose pixel data pydicom cannot decode here are
refused at once, instead of failing later when a patient is waiting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, BinaryIO

from chalicelib.domain.errors import DomainError
from chalicelib.domain.verdicts import NOT_YET_KNOWN, InstanceVerdict, verdict_of
from chalicelib.media import dicom_file
from chalicelib.media.errors import UnreadableDicom

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class Failure(StrEnum):
    """Why a file was not stored, as PS3.4 Annex GG's failure reasons tell a DICOMweb client."""

    CANNOT_UNDERSTAND = "cannot_understand"
    TRANSFER_SYNTAX_NOT_SUPPORTED = "transfer_syntax_not_supported"
    STUDY_MISMATCH = "study_mismatch"


class Unreadable(DomainError):
    """The file cannot be indexed; the message says why in words a clinic can act on, ``failure`` by kind,
    and the SOP Class and Instance UIDs name the instance when its header could be read."""

    def __init__(
        self,
        message: str,
        failure: Failure = Failure.CANNOT_UNDERSTAND,
        *,
        sop_class_uid: str | None = None,
        sop_instance_uid: str | None = None,
    ) -> None:
        super().__init__(message)
        self.failure = failure
        self.sop_class_uid = sop_class_uid
        self.sop_instance_uid = sop_instance_uid

    def of(self, dataset: Dataset) -> Unreadable:
        """The same refusal, naming the instance ``dataset`` describes (as far as it says)."""
        return Unreadable(
            self.message,
            self.failure,
            sop_class_uid=_text(dataset, "SOPClassUID") or None,
            sop_instance_uid=_text(dataset, "SOPInstanceUID") or None,
        )


@dataclass(frozen=True)
class Header:
    """The indexed attributes of one instance (keyword names from the DICOM standard)."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    patient_name: str
    patient_id: str
    patient_birth_date: str
    study_date: str
    study_time: str
    accession_number: str
    study_description: str
    modality: str
    series_number: int | None
    series_description: str
    instance_number: int | None
    number_of_frames: int
    rows: int | None
    columns: int | None
    has_pixel_data: bool
    patient_telephone_numbers: tuple[str, ...]
    patient_emails: tuple[str, ...]


def read_header(source: BinaryIO) -> Header:
    """Parse the header of a DICOM Part 10 stream without reading its pixel data."""
    return read_indexed(source).header


@dataclass(frozen=True)
class Indexed:
    """What the study index keeps of a file: its header, and what sharing will do with it."""

    header: Header
    verdict: InstanceVerdict


def read_indexed(source: BinaryIO) -> Indexed:
    """The header of a DICOM Part 10 stream (its pixel data unread) and the anonymizer's verdict on it."""
    try:
        dataset = dicom_file.read_header(source)
    except RecursionError as err:
        raise Unreadable(_TOO_DEEP) from err
    except UnreadableDicom as err:
        raise Unreadable(str(err)) from err
    try:
        _ensure_shallow(dataset)
        pixel_data = dicom_file.locate_pixel_data(source, dataset)
        is_image = "Rows" in dataset and "Columns" in dataset
        if dicom_file.is_deflated(dataset):
            has_pixel_data = "PixelData" in dataset or is_image
        elif pixel_data is None and is_image:
            # pydicom stops quietly at the end of a stream: a cut-off upload would look like an image without pixels.
            raise Unreadable("The file is truncated: its image has no pixel data")
        else:
            has_pixel_data = pixel_data is not None
        header = header_of(dataset, has_pixel_data=has_pixel_data)
        if has_pixel_data:
            _ensure_within_budget(dataset, header)
        if pixel_data is not None and pixel_data.length is None:
            _check_codestream(source, pixel_data.value_start, header.rows or 0, header.columns or 0)
    except UnreadableDicom as err:
        raise Unreadable(str(err)).of(dataset) from err
    except Unreadable as refused:
        raise refused.of(dataset) from refused
    except RecursionError as err:
        raise Unreadable(_TOO_DEEP) from err
    return Indexed(header, _verdict(dataset))


def _verdict(dataset: Dataset) -> InstanceVerdict:
    try:
        return verdict_of(dataset)
    except (ValueError, TypeError, KeyError, AttributeError):
        # A header value the assessment cannot read: the worker decides when it prepares the share.
        return NOT_YET_KNOWN


#: The largest frame a worker decodes (8192 × 8192: above any modality's single frame) and the most
#: pixel bytes an instance may decode to in all (a 1000-frame 1024 × 768 colour cine is 2.4 GB). A
#: header claiming more is a decompression bomb, or a file we could not render within Lambda's memory.
MAX_FRAME_PIXELS = 8192 * 8192
MAX_DECODED_BYTES = 4 * 1024**3


def _ensure_within_budget(dataset: Dataset, header: Header) -> None:
    rows, columns = header.rows or 0, header.columns or 0
    samples, bits = _int(dataset, "SamplesPerPixel") or 1, _int(dataset, "BitsAllocated") or 8
    if rows * columns > MAX_FRAME_PIXELS:
        raise Unreadable(f"A frame of {rows} x {columns} pixels is over the limit of {MAX_FRAME_PIXELS} pixels")
    if rows * columns * samples * -(-bits // 8) * header.number_of_frames > MAX_DECODED_BYTES:
        raise Unreadable(f"The image would decode to more than {MAX_DECODED_BYTES // 1024**3} GB")


#: How deep sequences may nest in what we accept: structured reports, the deepest in practice, stay
#: well inside it, and every later reader (index, anonymizer, renderer) stays far from Python's
#: recursion limit.
MAX_SEQUENCE_DEPTH = 32
_TOO_DEEP = f"The DICOM header nests sequences deeper than {MAX_SEQUENCE_DEPTH} levels"


def _ensure_shallow(dataset: Dataset) -> None:
    """Raise Unreadable when sequences nest deeper than MAX_SEQUENCE_DEPTH (walked without recursion)."""
    pending: list[tuple[Dataset, int]] = [(dataset, 0)]
    while pending:
        current, depth = pending.pop()
        if depth > MAX_SEQUENCE_DEPTH:
            raise Unreadable(_TOO_DEEP)
        for element in current:
            if element.VR == "SQ":
                pending.extend((item, depth + 1) for item in element.value)


def header_of(dataset: Dataset, *, has_pixel_data: bool) -> Header:
    """The indexed attributes of an already parsed dataset; raises Unreadable for what we cannot index."""
    try:
        return _header_of(dataset, has_pixel_data)
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise Unreadable("The DICOM header is truncated or malformed") from err


def _header_of(dataset: Dataset, has_pixel_data: bool) -> Header:
    meta = getattr(dataset, "file_meta", None)
    transfer_syntax = dicom_file.transfer_syntax(dataset)
    sop_instance_uid = _text(dataset, "SOPInstanceUID")
    if not sop_instance_uid:
        raise Unreadable("The instance has no SOP Instance UID (0008,0018)")
    study_uid = _text(dataset, "StudyInstanceUID")
    if not study_uid:
        raise Unreadable("The instance has no Study Instance UID (0020,000D)")
    if not transfer_syntax:
        raise Unreadable("The file has no Transfer Syntax UID (0002,0010) in its meta header")
    if has_pixel_data and not dicom_file.can_decode(transfer_syntax):
        raise Unreadable(
            f"Transfer syntax {transfer_syntax.name} is not supported; send it uncompressed or as JPEG",
            Failure.TRANSFER_SYNTAX_NOT_SUPPORTED,
        )
    telecom = " ".join(
        str(v) for v in (_values(dataset, "PatientTelephoneNumbers") + _values(dataset, "PatientTelecomInformation"))
    )
    return Header(
        study_instance_uid=study_uid,
        series_instance_uid=_text(dataset, "SeriesInstanceUID") or f"{study_uid}.0",
        sop_instance_uid=sop_instance_uid,
        sop_class_uid=_text(dataset, "SOPClassUID") or _text(meta, "MediaStorageSOPClassUID"),
        transfer_syntax_uid=str(transfer_syntax),
        patient_name=_text(dataset, "PatientName"),
        patient_id=_text(dataset, "PatientID"),
        patient_birth_date=_text(dataset, "PatientBirthDate"),
        study_date=_text(dataset, "StudyDate"),
        study_time=_text(dataset, "StudyTime"),
        accession_number=_text(dataset, "AccessionNumber"),
        study_description=_text(dataset, "StudyDescription"),
        modality=_text(dataset, "Modality"),
        series_number=_int(dataset, "SeriesNumber"),
        series_description=_text(dataset, "SeriesDescription"),
        instance_number=_int(dataset, "InstanceNumber"),
        number_of_frames=_int(dataset, "NumberOfFrames") or 1,
        rows=_int(dataset, "Rows"),
        columns=_int(dataset, "Columns"),
        has_pixel_data=has_pixel_data,
        patient_telephone_numbers=tuple(
            p for p in (str(v).strip() for v in _values(dataset, "PatientTelephoneNumbers")) if p and "@" not in p
        ),
        patient_emails=tuple(dict.fromkeys(_EMAIL.findall(telecom))),
    )


_ITEM = b"\xfe\xff\x00\xe0"
_SOC_SIZ = b"\xff\x4f\xff\x51"


def _check_codestream(source: BinaryIO, at: int, rows: int, columns: int) -> None:
    """Refuse a JPEG 2000 first frame whose codestream claims a larger image than the header.

    The decoder sizes its buffers from the codestream's SIZ marker, not from Rows and Columns: a small
    file claiming 60000 × 60000 there would make a worker allocate gigabytes before any check.
    """
    source.seek(at)
    offsets = source.read(8)  # the Basic Offset Table item: (FFFE,E000) and its length
    if len(offsets) < 8 or offsets[:4] != _ITEM:
        return
    source.seek(int.from_bytes(offsets[4:8], "little"), 1)
    fragment = source.read(8 + 24)
    if fragment[:4] != _ITEM or fragment[8:12] != _SOC_SIZ:
        return
    x, y, x_offset, y_offset = (int.from_bytes(fragment[i : i + 4], "big") for i in (16, 20, 24, 28))
    if x - x_offset > columns or y - y_offset > rows:
        raise Unreadable("The JPEG 2000 codestream claims a larger image than Rows and Columns")


def _text(dataset: object, keyword: str) -> str:
    value = getattr(dataset, keyword, None) if dataset is not None else None
    if value is None:
        return ""
    return str(value).strip()


def _int(dataset: Dataset, keyword: str) -> int | None:
    value = dataset.get(keyword)
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _values(dataset: Dataset, keyword: str) -> list[object]:
    value = dataset.get(keyword)
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return list(value)
    return [value]
