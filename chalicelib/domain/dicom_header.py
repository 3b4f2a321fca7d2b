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
from typing import TYPE_CHECKING, BinaryIO

from chalicelib.domain.errors import DomainError
from chalicelib.media import dicom_file
from chalicelib.media.errors import UnreadableDicom

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class Unreadable(DomainError):
    """The file cannot be indexed; ``reason`` says why in words a clinic can act on."""


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
    try:
        dataset = dicom_file.read_header(source)
        pixel_data = dicom_file.locate_pixel_data(source, dataset)
    except UnreadableDicom as err:
        raise Unreadable(str(err)) from err
    is_image = "Rows" in dataset and "Columns" in dataset
    if dicom_file.is_deflated(dataset):
        has_pixel_data = "PixelData" in dataset or is_image
    elif pixel_data is None and is_image:
        # pydicom stops quietly at the end of a stream: a cut-off upload would look like an image without pixels.
        raise Unreadable("The file is truncated: its image has no pixel data")
    else:
        has_pixel_data = pixel_data is not None
    return header_of(dataset, has_pixel_data=has_pixel_data)


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
        raise Unreadable(f"Transfer syntax {transfer_syntax.name} is not supported; send it uncompressed or as JPEG")
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
