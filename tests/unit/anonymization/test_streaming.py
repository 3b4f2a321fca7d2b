"""Pixel data that needs no cleaning is streamed through: same bytes, never held whole in memory."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian

from chalicelib.domain.anonymization import NotDicom, anonymize_file
from tests import patient_data
from tests.unit.anonymization.builders import KEY, ct_slice, read, us_cine, write


class CountingSink(io.RawIOBase):
    """A write-only stream without a file descriptor, that keeps nothing but a byte count."""

    def __init__(self) -> None:
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.written += len(data)
        return len(data)


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small_jp2klossless.dcm", "MR_small_RLE.dcm", "MR_small_bigendian.dcm"]
)
def test_pixel_data_bytes_are_copied_unchanged(tmp_path: Path, name: str) -> None:
    source = Path(get_testdata_file(name))
    anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    original, copy = read(source), read(tmp_path / "out.dcm")
    assert copy.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert copy.PixelData == original.PixelData
    assert copy.PixelData in (tmp_path / "out.dcm").read_bytes()


def test_elements_after_the_pixel_data_are_processed_too(tmp_path: Path) -> None:
    ds = ct_slice()
    ds.private_block(0x7FE1, "SOME VENDOR", create=True).add_new(0x01, "LO", patient_data.PATIENT_IDS[0])
    signature = Dataset()
    signature.add_new(0x04000015, "CS", "RSA")  # MAC Algorithm
    signature.add_new(0x00100010, "PN", patient_data.PATIENT_NAMES[0])
    ds.add_new(0xFFFAFFFA, "SQ", [signature])  # Digital Signatures Sequence
    padding = patient_data.PATIENT_NAMES[1].encode().ljust(100_000, b"\0")  # over the deferral size
    ds.add_new(0xFFFCFFFC, "OB", padding)  # Data Set Trailing Padding
    ds.add_new(0x7FE00020, "OW", b"\x01\x00" * 8)  # Coefficients SDVN (retired, public): kept
    source = write(ds, tmp_path / "in.dcm")

    anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    written = (tmp_path / "out.dcm").read_bytes()
    for value in (patient_data.PATIENT_IDS[0], patient_data.PATIENT_NAMES[0], patient_data.PATIENT_NAMES[1]):
        assert value.encode() not in written
    out = read(tmp_path / "out.dcm")
    assert sorted(element.tag for element in out if element.tag > 0x7FE00010) == [0x7FE00020]
    assert out[0x7FE00020].value == b"\x01\x00" * 8
    assert out.PixelData == ds.PixelData


def test_a_large_file_is_streamed_without_being_held(tmp_path: Path) -> None:
    # 120 frames of 320 x 240 RGB: 27 MB of pixels that need no cleaning.
    source = write(us_cine(frames=120, rows=240, columns=320, burned_in="NO"), tmp_path / "cine.dcm")
    size = source.stat().st_size
    for target in (tmp_path / "out.dcm", CountingSink()):  # kernel copy, then the chunked copy
        tracemalloc.start()
        try:
            report = anonymize_file(source, target, key=KEY)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert report.anonymizable
        assert not report.pixels_cleaned
        assert peak < 4 * 1024 * 1024, f"peak {peak} bytes for a {size} byte file"
    assert dcmread(tmp_path / "out.dcm").PixelData == dcmread(source).PixelData


def test_cleaning_holds_a_few_frames_not_the_cine(tmp_path: Path) -> None:
    source = write(us_cine(frames=60, rows=240, columns=320), tmp_path / "cine.dcm")  # 230 kB a frame
    tracemalloc.start()
    try:
        report = anonymize_file(source, CountingSink(), key=KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.pixels_cleaned
    assert peak < 8 * 240 * 320 * 3, f"peak {peak} bytes"  # a handful of frames, the cine is 60


def test_file_objects_work_as_source_and_target(tmp_path: Path) -> None:
    source = io.BytesIO(write(ct_slice(), tmp_path / "in.dcm").read_bytes())
    target = io.BytesIO()
    report = anonymize_file(source, target, key=KEY)
    assert report.anonymizable
    assert dcmread(io.BytesIO(target.getvalue())).PatientName == ""


def test_a_truncated_file_is_an_error_and_leaves_no_output(tmp_path: Path) -> None:
    whole = write(ct_slice(rows=64, columns=64), tmp_path / "in.dcm").read_bytes()
    (tmp_path / "cut.dcm").write_bytes(whole[:-100])
    with pytest.raises(NotDicom, match="truncated"):
        anonymize_file(tmp_path / "cut.dcm", tmp_path / "out.dcm", key=KEY)
    assert not (tmp_path / "out.dcm").exists()


def test_deflated_files_are_inflated(tmp_path: Path) -> None:
    ds = ct_slice()
    source = write(ds, tmp_path / "in.dcm", DeflatedExplicitVRLittleEndian)
    anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    out = read(tmp_path / "out.dcm")
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.PixelData == ds.PixelData
    assert out.PatientName == ""


def test_big_endian_files_stay_big_endian(tmp_path: Path) -> None:
    source = Path(get_testdata_file("MR_small_bigendian.dcm"))
    anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    out = read(tmp_path / "out.dcm")
    assert out.file_meta.TransferSyntaxUID == ExplicitVRBigEndian
    assert (out.pixel_array == read(source).pixel_array).all()


def test_pixel_data_written_implicitly_in_an_explicit_file_is_found(tmp_path: Path) -> None:
    ds = ct_slice()
    whole = write(ds, tmp_path / "in.dcm").read_bytes()
    length = len(ds.PixelData).to_bytes(4, "little")
    at = whole.index(b"\xe0\x7f\x10\x00OW\x00\x00" + length)
    implicit = b"\xe0\x7f\x10\x00" + length  # the element header without its VR
    (tmp_path / "odd.dcm").write_bytes(whole[:at] + implicit + ds.PixelData)
    anonymize_file(tmp_path / "odd.dcm", tmp_path / "out.dcm", key=KEY)
    assert read(tmp_path / "out.dcm").PixelData == ds.PixelData
