"""DICOM files made in the tests, with the patient values of ``tests/patient_data.py``."""

from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    UltrasoundMultiFrameImageStorage,
    generate_uid,
)

from tests import patient_data


def instance(
    *,
    study_uid: str | None = None,
    series_uid: str | None = None,
    sop_uid: str | None = None,
    patient_name: str = patient_data.PATIENT_NAMES[2],
    patient_id: str = patient_data.PATIENT_IDS[1],
    accession: str = "ACC-1001",
    study_date: str = "20261120",
    modality: str = "US",
    frames: int = 1,
    rows: int = 48,
    columns: int = 64,
    phones: tuple[str, ...] = (patient_data.PHONES[0],),
    telecom: str | None = patient_data.EMAILS[0],
    transfer_syntax: str = ExplicitVRLittleEndian,
    sop_class: str | None = None,
    burned_in: str | None = None,
    us_region: bool = False,
    study_description: str = "Ultraljud buk",
) -> bytes:
    """A small valid RGB instance (multi-frame US when ``frames`` > 1, else a secondary capture) as Part 10.

    ``burned_in`` sets BurnedInAnnotation; ``us_region`` adds one ultrasound region (the middle half of
    the image), the case where burned-in text around the scan can be blanked.
    """
    ds = Dataset()
    ds.SOPClassUID = sop_class or (UltrasoundMultiFrameImageStorage if frames > 1 else SecondaryCaptureImageStorage)
    if burned_in is not None:
        ds.BurnedInAnnotation = burned_in
    if us_region:
        region = Dataset()
        region.RegionSpatialFormat = 1
        region.RegionDataType = 1
        region.RegionFlags = 0
        region.RegionLocationMinX0, region.RegionLocationMinY0 = columns // 4, rows // 4
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = 3 * columns // 4 - 1, 3 * rows // 4 - 1
        ds.SequenceOfUltrasoundRegions = [region]
    ds.SOPInstanceUID = sop_uid or generate_uid()
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19121212"
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.AccessionNumber = accession
    ds.StudyDescription = study_description
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientTelephoneNumbers = list(phones)
    if telecom is not None:
        ds.PatientTelecomInformation = telecom
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameTime = 33.3
        ds.CineRate = 30
    pixels = np.zeros((frames, rows, columns, 3), dtype=np.uint8)
    pixels[..., 0] = np.arange(columns, dtype=np.uint8)[None, None, :] * 3
    pixels[:, rows // 4 : rows // 2, :, 1] = 200
    ds.PixelData = pixels.tobytes()
    return to_bytes(ds, transfer_syntax)


def ct_slice(
    *,
    study_uid: str,
    series_uid: str,
    number: int,
    patient_name: str = patient_data.PATIENT_NAMES[2],
    patient_id: str = patient_data.PATIENT_IDS[1],
    size: int = 64,
) -> bytes:
    """One CT Image Storage slice (16-bit MONOCHROME2) of a series, as Part 10."""
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = patient_name, patient_id, "19121212"
    ds.StudyDate, ds.StudyTime, ds.AccessionNumber = "20261120", "101500", "ACC-1001"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 2, number
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, number * 2.5], [1, 0, 0, 0, 1, 0]
    ds.SliceThickness, ds.PixelSpacing = 2.5, [0.7, 0.7]
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = (np.add.outer(np.arange(size), np.arange(size)) * 8 + number).astype(np.uint16).tobytes()
    return to_bytes(ds)


def to_bytes(ds: Dataset, transfer_syntax: str = ExplicitVRLittleEndian) -> bytes:
    """Write a dataset as a Part 10 file."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    ds.file_meta = meta
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def without(data: bytes, keyword: str) -> bytes:
    """The same file with one attribute removed."""
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(data))
    delattr(ds, keyword)
    buffer = io.BytesIO()
    ds.save_as(buffer)
    return buffer.getvalue()


def with_transfer_syntax(data: bytes, transfer_syntax: str) -> bytes:
    """The same file in an encapsulated transfer syntax (the fragments are stand-ins, never decoded)."""
    from pydicom import dcmread
    from pydicom.encaps import encapsulate

    ds = dcmread(io.BytesIO(data))
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.PixelData = encapsulate([b"\x00" * 16 for _ in range(int(ds.get("NumberOfFrames", 1)))])
    buffer = io.BytesIO()
    ds.save_as(buffer, implicit_vr=False, little_endian=True)
    return buffer.getvalue()


def multipart_related(parts: list[bytes], boundary: str = "patient-share-test-boundary") -> tuple[bytes, str]:
    """A STOW-RS body and its Content-Type."""
    body = b"".join(
        b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n" for part in parts
    )
    body += b"--" + boundary.encode() + b"--\r\n"
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def pdf_report(*, study_uid: str, patient_name: str = patient_data.PATIENT_NAMES[2]) -> bytes:
    """An Encapsulated PDF report: a document we cannot anonymize (the text names the patient)."""
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = patient_name
    ds.PatientID = patient_data.PATIENT_IDS[1]
    ds.StudyDate = "20261120"
    ds.Modality = "DOC"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")
    return to_bytes(ds)


def structured_report(*, study_uid: str, patient_name: str = patient_data.PATIENT_NAMES[2]) -> bytes:
    """A Comprehensive SR: a title, a Findings container holding text, a code, a length in mm and a nested
    Measurements container, then a Conclusion (text that names no one, but an SR is never anonymized)."""

    def code(value: str, scheme: str, meaning: str) -> Dataset:
        c = Dataset()
        c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
        return c

    def item(value_type: str, name: Dataset, **values: Any) -> Dataset:
        d = Dataset()
        d.RelationshipType, d.ValueType, d.ConceptNameCodeSequence = "CONTAINS", value_type, [name]
        for keyword, value in values.items():
            setattr(d, keyword, value)
        return d

    def length(number: str, unit: Dataset) -> Dataset:
        measured = Dataset()
        measured.NumericValue, measured.MeasurementUnitsCodeSequence = number, [unit]
        return measured

    mm = code("mm", "UCUM", "millimeter")
    measurements = item(
        "CONTAINER",
        code("125007", "DCM", "Measurement Group"),
        ContinuityOfContent="SEPARATE",
        ContentSequence=[item("NUM", code("410668003", "SCT", "Length"), MeasuredValueSequence=[length("42.5", mm)])],
    )
    findings = item(
        "CONTAINER",
        code("121070", "DCM", "Findings"),
        ContinuityOfContent="SEPARATE",
        ContentSequence=[
            item("TEXT", code("121071", "DCM", "Finding"), TextValue="Liver of normal size & shape <ok>."),
            item("CODE", code("121071", "DCM", "Finding"), ConceptCodeSequence=[code("17621005", "SCT", "Normal")]),
            measurements,
        ],
    )
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.PatientName, ds.PatientID = patient_name, patient_data.PATIENT_IDS[1]
    ds.StudyDate, ds.Modality = "20261120", "SR"
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = [code("18748-4", "LN", "Diagnostic imaging report")]
    ds.ContentSequence = [findings, item("TEXT", code("121076", "DCM", "Conclusion"), TextValue="No follow-up.")]
    return to_bytes(ds)


def nested_sequences(depth: int, **kwargs: Any) -> bytes:
    """An instance whose Content Sequence nests ``depth`` levels (undefined lengths), before its pixels.

    Written by hand: pydicom itself recurses once per level, so it cannot write what this tests.
    """
    whole = instance(**kwargs)
    ds = dcmread(io.BytesIO(whole))
    del ds.PixelData
    head = to_bytes(ds)
    assert whole.startswith(head)  # the Pixel Data element comes last
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    level = struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, 0xFFFFFFFF) + item
    close = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return head + level * depth + close * depth + whole[len(head) :]


def headless(data: bytes) -> bytes:
    """A Part 10 file as pydicom 3 writes an in-memory Dataset: group 0002 first, no preamble, no DICM."""
    assert data[128:132] == b"DICM"
    return data[132:]


def claiming(*, rows: int, columns: int, frames: int = 1, codestream: tuple[int, int] | None = None) -> bytes:
    """An instance whose header (or, with ``codestream``, whose JPEG 2000 SIZ marker: width, height) claims
    an image far larger than its few bytes of pixel data: what a decompression bomb looks like."""
    from pydicom.encaps import encapsulate

    ds = dcmread(io.BytesIO(instance()))
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    if codestream is None:
        ds.PixelData = encapsulate([b"\xff\xd8\xff\xd9"] * frames)
        ds["PixelData"].VR = "OB"
        return to_bytes(ds, "1.2.840.10008.1.2.4.50")
    width, height = codestream
    siz = struct.pack(">HHIIIIIIIIH", 41, 0, width, height, 0, 0, width, height, 0, 0, 3) + b"\x07\x01\x01" * 3
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + siz + b"\xff\xd9"] * frames)
    ds["PixelData"].VR = "OB"
    ds.PhotometricInterpretation = "YBR_RCT"
    return to_bytes(ds, "1.2.840.10008.1.2.4.90")


def long_element(data: bytes, keyword_vr: bytes = b"PN") -> bytes:
    """``data`` cut just after its first element of VR ``keyword_vr``, whose length now claims 65534 bytes."""
    at = data.index(keyword_vr, 132)
    return data[: at + 2] + struct.pack("<H", 0xFFFE) + data[at + 4 : at + 24]


def bad_files() -> list[tuple[bytes, str]]:
    """Every kind of bad file of #11 (item 4), with the words of the reason it is quarantined under."""
    return [
        (b"MZ\x90\x00 this is an executable, not DICOM", "not DICOM"),
        (instance()[:-64], "truncated"),
        (instance()[:1000], "truncated"),
        (long_element(instance()), "Study Instance UID"),  # the length runs past the end
        (without(instance(), "SOPInstanceUID"), "no SOP Instance UID"),
        (with_transfer_syntax(instance(), "1.2.840.10008.1.2.4.102"), "not supported"),
        (nested_sequences(1000), "nests sequences deeper than 32"),
        (claiming(rows=65535, columns=65535), "over the limit"),
        (claiming(rows=4096, columns=4096, frames=200), "more than 4 GB"),
        (claiming(rows=48, columns=64, codestream=(60000, 60000)), "JPEG 2000 codestream claims"),
    ]
