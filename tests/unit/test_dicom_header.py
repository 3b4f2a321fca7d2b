from __future__ import annotations

import io

import pytest
from pydicom.data import get_testdata_file

from chalicelib.domain.dicom_header import Unreadable, read_header
from tests import dicom_files, patient_data


class CountingReader(io.BytesIO):
    """Counts the bytes read, to show the pixel data is never read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_the_header_of_a_cine_is_read_without_its_pixels() -> None:
    data = dicom_files.instance(frames=60, rows=240, columns=320)
    reader = CountingReader(data)
    header = read_header(reader)
    assert header.number_of_frames == 60
    assert header.has_pixel_data
    assert reader.bytes_read < 4096 < len(data)


def test_contacts_entered_by_the_imaging_system_are_kept() -> None:
    header = read_header(io.BytesIO(dicom_files.instance(phones=(patient_data.PHONES[1],))))
    assert header.patient_telephone_numbers == (patient_data.PHONES[1],)
    assert header.patient_emails == (patient_data.EMAILS[0],)
    assert header.patient_name == patient_data.PATIENT_NAMES[2]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7 not dicom at all" * 20, "not DICOM"),
        (b"", "not DICOM"),
        (dicom_files.instance()[:-100], "truncated: its pixel data ends early"),
        (dicom_files.instance()[:900], "truncated: its image has no pixel data"),
        (dicom_files.instance()[:200], "no SOP Instance UID"),
        (dicom_files.without(dicom_files.instance(), "SOPInstanceUID"), "no SOP Instance UID"),
        (dicom_files.without(dicom_files.instance(), "StudyInstanceUID"), "no Study Instance UID"),
        (dicom_files.with_transfer_syntax(dicom_files.instance(), "1.2.840.10008.1.2.4.100"), "not supported"),
    ],
)
def test_bad_files_are_refused_with_a_reason_that_names_no_patient(data: bytes, reason: str) -> None:
    with pytest.raises(Unreadable, match=reason) as refused:
        read_header(io.BytesIO(data))
    assert patient_data.leaked(refused.value.message) == []


@pytest.mark.parametrize(
    "name",
    [
        "SC_rgb_jpeg_dcmtk.dcm",
        "SC_rgb_jpeg.dcm",
        "MR_small_RLE.dcm",
        "JPEG2000.dcm",
        "JPEG-lossy.dcm",
        "CT_small.dcm",
        "SC_rgb_rle.dcm",
        "MR_small_bigendian.dcm",
        "image_dfl.dcm",
    ],
)
def test_compressed_files_from_pydicom_index(name: str) -> None:  # fmt: skip
    path = get_testdata_file(name)
    if path is None:  # pragma: no cover - every name above ships in pydicom's wheel
        pytest.fail(f"{name} is not in pydicom's bundled test files")
    with open(path, "rb") as source:
        header = read_header(source)
    assert header.sop_instance_uid
    assert header.has_pixel_data


def test_a_file_cut_inside_its_pixel_data_is_truncated() -> None:
    path = get_testdata_file("MR_truncated.dcm")
    assert path is not None
    with open(path, "rb") as source, pytest.raises(Unreadable, match="truncated"):
        read_header(source)
