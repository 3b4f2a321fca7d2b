"""Compressed in, compressed out: cleaned frames are encoded again in the input's family, at about its size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

from chalicelib.domain.anonymization import anonymize_file
from chalicelib.media.dicom_render import first_display_frame
from tests.unit.anonymization.builders import KEY, cine_pixels, read, real_file, us_cine, write

SIZE_GOAL = 1.2  # a cleaned output is at most this many times its input's size


def region_mask(ds: object, rows: int, columns: int) -> np.ndarray:
    inside = np.zeros((rows, columns), dtype=bool)
    for item in ds.SequenceOfUltrasoundRegions:  # type: ignore[attr-defined]
        if item.RegionSpatialFormat in (1, 2, 3, 4):
            inside[
                item.RegionLocationMinY0 : item.RegionLocationMaxY1 + 1,
                item.RegionLocationMinX0 : item.RegionLocationMaxX1 + 1,
            ] = True
    return inside


@pytest.mark.parametrize(
    ("syntax", "interpretation"),
    [(RLELossless, "RGB"), (JPEGLSLossless, "RGB"), (JPEG2000Lossless, "YBR_RCT")],
)
def test_lossless_input_stays_lossless_in_its_family(tmp_path: Path, syntax: str, interpretation: str) -> None:
    regions = ((10, 5, 29, 24), (35, 8, 55, 30))
    source = write(us_cine(frames=4, regions=regions), tmp_path / "us.dcm", syntax)
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert report.pixels_cleaned
    out = read(tmp_path / "out.dcm")
    assert out.file_meta.TransferSyntaxUID == syntax
    assert out.PhotometricInterpretation == interpretation
    assert out.get("LossyImageCompression", "00") == "00"
    inside = np.zeros((40, 60), dtype=bool)
    for min_x, min_y, max_x, max_y in regions:
        inside[min_y : max_y + 1, min_x : max_x + 1] = True
    expected = cine_pixels(4, 40, 60)
    expected[:, ~inside] = 0
    assert np.array_equal(out.pixel_array, expected)  # every kept value exact, every other one zero


def test_a_jpeg_cine_stays_jpeg_baseline_at_about_its_size_and_says_it_was_compressed_again(tmp_path: Path) -> None:
    source = real_file("color3d_jpeg_baseline.dcm")  # 120 frames, 640 x 480, YBR_FULL_422, one 2D region
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert report.pixels_cleaned
    assert (tmp_path / "out.dcm").stat().st_size <= SIZE_GOAL * source.stat().st_size
    out, original = read(tmp_path / "out.dcm"), read(source)
    assert out.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert out.PhotometricInterpretation == "YBR_FULL_422"
    assert out.LossyImageCompression == "01"
    # One ratio and one method per lossy compression, in order: the input's (19, JPEG) and ours.
    assert len(out.LossyImageCompressionRatio) == len(out.LossyImageCompressionMethod) == 2
    assert list(out.LossyImageCompressionMethod) == ["ISO_10918_1", "ISO_10918_1"]
    assert float(out.LossyImageCompressionRatio[1]) > 1
    region = original.SequenceOfUltrasoundRegions[0]
    top, bottom = region.RegionLocationMinY0, region.RegionLocationMaxY1 + 1
    left, right = region.RegionLocationMinX0, region.RegionLocationMaxX1 + 1
    # 8x8 blocks wholly outside the region are black; a block that straddles its edge may ring a little, so
    # the checks keep 16 pixels (one 4:2:2 block) away from the edge on either side.
    far_outside = np.ones((480, 640), dtype=bool)
    far_outside[max(top - 16, 0) : bottom + 16, max(left - 16, 0) : right + 16] = False
    deep_inside = np.zeros((480, 640), dtype=bool)
    deep_inside[top + 16 : bottom - 16, left + 16 : right - 16] = True
    for index in (0, 59, 119):
        after, before = out.pixel_array[index], original.pixel_array[index]
        assert int(before[far_outside].max()) > 100  # there was something to blank
        assert int(after[far_outside].max()) <= 2
        difference = np.abs(after[deep_inside].astype(int) - before[deep_inside].astype(int))
        assert difference.mean() < 2.0  # one more pass at the input's own quality


def test_a_cleaned_rle_ultrasound_stays_rle_within_the_size_goal(tmp_path: Path) -> None:
    source = real_file("OBXXXX1A_rle.dcm")  # palette colour, two regions
    assert anonymize_file(source, tmp_path / "out.dcm", key=KEY).pixels_cleaned
    assert (tmp_path / "out.dcm").stat().st_size <= SIZE_GOAL * source.stat().st_size
    out, original = read(tmp_path / "out.dcm"), read(source)
    assert out.file_meta.TransferSyntaxUID == RLELossless
    inside = region_mask(original, original.Rows, original.Columns)
    assert np.array_equal(out.pixel_array[inside], original.pixel_array[inside])
    assert (out.pixel_array[~inside] == 0).all()


def test_a_big_endian_palette_ultrasound_keeps_its_colours(tmp_path: Path) -> None:
    # The same image twice, big and little endian, 16-bit palette indices and segmented palettes.
    big, little = real_file("gdcm-US-ALOKA-16_big.dcm"), real_file("gdcm-US-ALOKA-16.dcm")
    assert anonymize_file(big, tmp_path / "big.dcm", key=KEY).pixels_cleaned
    assert anonymize_file(little, tmp_path / "little.dcm", key=KEY).pixels_cleaned
    assert read(tmp_path / "big.dcm").file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    shown = first_display_frame(tmp_path / "big.dcm")
    assert np.array_equal(shown, first_display_frame(tmp_path / "little.dcm"))
    inside = region_mask(read(big), 480, 640)
    assert np.array_equal(shown[inside], first_display_frame(big)[inside])  # the colours as the original's


def test_frames_that_need_no_cleaning_are_copied_untouched(tmp_path: Path) -> None:
    source = real_file("US1_J2KR.dcm")  # lossless JPEG 2000; its header says nothing of burned-in text
    original = read(source)
    original.BurnedInAnnotation = "NO"
    original.save_as(tmp_path / "no-text.dcm")
    assert not anonymize_file(tmp_path / "no-text.dcm", tmp_path / "out.dcm", key=KEY).pixels_cleaned
    out = read(tmp_path / "out.dcm")
    assert UID(out.file_meta.TransferSyntaxUID) == JPEG2000Lossless
    assert out.PixelData == original.PixelData
