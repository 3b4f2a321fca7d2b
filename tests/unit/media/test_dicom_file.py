"""The one DICOM reader: the header without the pixels, the pixel data by its offsets, transfer syntax facts."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pydicom
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    MPEG2MPML,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from chalicelib.media import dicom_file
from chalicelib.media.errors import UnreadableDicom
from tests import dicom_files

from .samples import pydicom_file


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small_bigendian.dcm", "SC_rgb_rle_2frame.dcm", "examples_ybr_color.dcm"]
)
def test_the_pixel_data_element_is_located_by_its_offsets(name: str) -> None:
    data = Path(pydicom_file(name)).read_bytes()
    with open(pydicom_file(name), "rb") as source:
        header = dicom_file.read_header(source)
        assert "PixelData" not in header
        element = dicom_file.locate_pixel_data(source, header)
        assert element is not None
        end = dicom_file.pixel_data_end(source, element, header)
    whole = pydicom.dcmread(pydicom_file(name))
    # What lies between our offsets is the element pydicom reads as Pixel Data, value and all.
    assert data[element.start : element.start + 4] in (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")
    if element.length is None:
        assert data[element.value_start : end - 8] == whole.PixelData
    else:
        assert data[element.value_start : end] == whole.PixelData


def test_a_file_cut_inside_its_fragments_is_truncated(tmp_path: Path) -> None:
    data = Path(pydicom_file("SC_rgb_rle_2frame.dcm")).read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[:-200])
    with open(tmp_path / "cut.dcm", "rb") as source:
        header = dicom_file.read_header(source)
        element = dicom_file.locate_pixel_data(source, header)
        assert element is not None
        with pytest.raises(UnreadableDicom, match="truncated"):
            dicom_file.pixel_data_end(source, element, header)


def test_what_a_transfer_syntax_is_comes_from_pydicom() -> None:
    lossless = (ImplicitVRLittleEndian, ExplicitVRBigEndian, RLELossless, JPEG2000Lossless, JPEGLSLossless)
    assert all(dicom_file.is_lossless(uid) for uid in lossless)
    assert not any(dicom_file.is_lossless(uid) for uid in (JPEGBaseline8Bit, JPEG2000, JPEGLSNearLossless))
    assert all(dicom_file.can_decode(uid) for uid in (JPEGBaseline8Bit, RLELossless, JPEG2000))
    assert not dicom_file.can_decode(MPEG2MPML)


def test_lossy_compression_recorded_in_the_header_counts() -> None:
    header = dicom_file.read_header(pydicom_file("CT_small.dcm"))
    assert dicom_file.stored_losslessly(header)
    header.LossyImageCompression = "01"
    assert not dicom_file.stored_losslessly(header)


def test_dicom_json_leaves_bulk_data_out_at_any_depth() -> None:
    whole = dcmread(io.BytesIO(dicom_files.instance(frames=2)))  # read whole: pixel data included
    icon = Dataset()
    icon.Rows, icon.Columns = 32, 64
    icon.PixelData = bytes(2048)
    whole.IconImageSequence = [icon]
    whole.add_new(0x00091010, "OB", bytes(16))  # a small binary value stays, inline
    converted = dicom_file.dicom_json(whole)
    assert "7FE00010" not in converted
    (item,) = converted["00880200"]["Value"]
    assert "7FE00010" not in item
    assert item["00280010"]["Value"] == [32]
    assert base64.b64decode(converted["00091010"]["InlineBinary"]) == bytes(16)
    assert converted["00080018"]["Value"] == [whole.SOPInstanceUID]
