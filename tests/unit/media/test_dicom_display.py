"""Stored DICOM values → 8-bit display pixels, on pydicom's bundled files and on files made here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut

from chalicelib.media.dicom_render import first_display_frame, iter_display_frames
from chalicelib.media.errors import UnreadableDicom, UnsupportedPixelData

from .samples import dicom_file, pydicom_file

# The colour bars of the SC_rgb_* files, stored losslessly as RGB: the reference for the others.
COLOUR_BARS = "SC_rgb_rle.dcm"


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize(
    "name",
    [
        "SC_rgb_jpeg_dcmtk.dcm",  # JPEG Baseline, YBR_FULL
        "SC_rgb_dcmtk_+eb+cy+np.dcm",  # JPEG Baseline, YBR_FULL_422
        "SC_rgb_dcmtk_+eb+cr.dcm",  # JPEG Baseline, RGB components
        "SC_ybr_full_422_uncompressed.dcm",  # native YBR_FULL_422 (subsampled in the file)
        "SC_rgb_jpeg_gdcm.dcm",  # JPEG Lossless
        "SC_rgb_gdcm_KY.dcm",  # JPEG 2000
        "SC_rgb_rle_16bit.dcm",  # 16 bits a sample
        "SC_rgb_rle_32bit.dcm",  # 32 bits a sample
    ],
)
def test_colour_encodings_all_show_the_same_colour_bars(name: str) -> None:
    reference = first_display_frame(pydicom_file(COLOUR_BARS))
    shown = first_display_frame(pydicom_file(name))
    assert shown.shape == reference.shape == (100, 100, 3)
    assert shown.dtype == np.uint8
    # Lossy JPEG wobbles by a level or two; a wrong colour conversion is off by tens.
    assert mean_difference(shown, reference) < 4
    assert tuple(reference[5, 50]) == (255, 0, 0)  # the top bar is red


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_implicit.dcm",
    ],
)
def test_lossless_encodings_of_one_mr_image_render_identically(name: str) -> None:
    reference = first_display_frame(pydicom_file("MR_small.dcm"))
    assert np.array_equal(first_display_frame(pydicom_file(name)), reference)


def linear_window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM PS3.3 C.11.2.1.2.1 LINEAR window with a 0-255 output, written out independently."""
    scaled = ((values - (center - 0.5)) / (width - 1) + 0.5) * 255
    return np.clip(np.rint(scaled), 0, 255)


def test_mr_is_shown_through_its_window() -> None:
    ds = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    expected = linear_window(ds.pixel_array.astype(np.float64), float(ds.WindowCenter), float(ds.WindowWidth))
    shown = first_display_frame(pydicom_file("MR_small.dcm"))
    assert shown.shape == (64, 64)
    assert np.abs(shown.astype(np.int16) - expected).max() <= 1
    assert shown.max() == 255  # values above the window's top are clipped to white


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    ds = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.save_as(tmp_path / "mono1.dcm")
    normal = first_display_frame(pydicom_file("MR_small.dcm"))
    assert np.array_equal(first_display_frame(tmp_path / "mono1.dcm"), 255 - normal)


def test_first_of_several_windows_is_used(tmp_path: Path) -> None:
    ds = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    ds.WindowCenter, ds.WindowWidth = [400, 1600], [300, 3200]
    ds.save_as(tmp_path / "two_windows.dcm")
    expected = linear_window(ds.pixel_array.astype(np.float64), 400, 300)
    shown = first_display_frame(tmp_path / "two_windows.dcm")
    assert np.abs(shown.astype(np.int16) - expected).max() <= 1


def test_ct_without_window_is_auto_windowed_keeping_the_order_of_values() -> None:
    ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    assert "WindowCenter" not in ds  # the case under test
    shown = first_display_frame(pydicom_file("CT_small.dcm"))
    assert shown.shape == (128, 128)
    assert shown.min() == 0
    assert shown.max() == 255
    # Auto-windowing is monotonic: sorting by stored value sorts the display values too.
    order = np.argsort(ds.pixel_array, axis=None, kind="stable")
    assert np.all(np.diff(shown.ravel()[order].astype(np.int16)) >= 0)
    # Only the 0.5 % tails are clipped at each end.
    assert (shown == 0).mean() < 0.02
    assert (shown == 255).mean() < 0.02


def test_rescale_and_voi_lut_are_applied(tmp_path: Path) -> None:
    # Stored 0..1023, rescaled to -512..511 ("HU"), and a VOI LUT over -512..511 that squares.
    stored = np.arange(32 * 32, dtype=np.uint16).reshape(32, 32)
    lut = ((np.arange(1024) / 1023.0) ** 2 * 4095).astype(np.uint16)
    voi = Dataset()
    voi.LUTDescriptor = [1024, -512, 12]
    voi.LUTData = lut.tolist()
    voi["LUTData"].VR = "US"
    voi["LUTDescriptor"].VR = "SS"
    path = dicom_file(
        tmp_path / "voi_lut.dcm",
        stored.tobytes(),
        SamplesPerPixel=1,
        PhotometricInterpretation="MONOCHROME2",
        Rows=32,
        Columns=32,
        BitsAllocated=16,
        BitsStored=10,
        HighBit=9,
        PixelRepresentation=0,
        RescaleSlope=1,
        RescaleIntercept=-512,
        RescaleType="HU",
        WindowCenter=0,  # present but the VOI LUT wins, as in pydicom's apply_voi_lut
        WindowWidth=10,
        VOILUTSequence=[voi],
    )
    expected = np.rint(lut[stored].astype(np.float64) * 255 / lut.max())
    shown = first_display_frame(path)
    assert np.abs(shown.astype(np.int16) - expected).max() <= 1


def test_signed_values_with_junk_in_unused_high_bits(tmp_path: Path) -> None:
    # 12 bits stored in 16, signed: -2048..2047, with the 4 unused high bits set to 1010.
    values = np.linspace(-2048, 2047, 64 * 64).round().astype(np.int16).reshape(64, 64)
    raw = (values.astype(np.uint16) & 0x0FFF) | 0xA000
    path = dicom_file(
        tmp_path / "signed12.dcm",
        raw.astype("<u2").tobytes(),
        SamplesPerPixel=1,
        PhotometricInterpretation="MONOCHROME2",
        Rows=64,
        Columns=64,
        BitsAllocated=16,
        BitsStored=12,
        HighBit=11,
        PixelRepresentation=1,
        WindowCenter=0,
        WindowWidth=4096,
    )
    expected = linear_window(values.astype(np.float64), 0, 4096)
    shown = first_display_frame(path)
    assert np.abs(shown.astype(np.int16) - expected).max() <= 1
    assert shown[0, 0] == 0
    assert shown[-1, -1] == 255


def test_eight_bit_grayscale_without_window_is_shown_as_stored() -> None:
    ds = pydicom.dcmread(pydicom_file("image_dfl.dcm"))  # deflated transfer syntax, 8 bits, no window
    assert np.array_equal(first_display_frame(pydicom_file("image_dfl.dcm")), ds.pixel_array)


def test_palette_colour_matches_pydicoms_lookup() -> None:
    ds = pydicom.dcmread(pydicom_file("examples_palette.dcm"))
    expected = (apply_color_lut(ds.pixel_array, ds) >> 8).astype(np.uint8)  # 16-bit palette entries
    shown = first_display_frame(pydicom_file("examples_palette.dcm"))
    assert shown.shape == (350, 800, 3)
    assert np.array_equal(shown, expected)
    assert (shown[..., 0] != shown[..., 2]).any()  # really coloured, not grey


def test_ultrasound_frames_match_pydicoms_rgb_pixel_array() -> None:
    ds = pydicom.dcmread(pydicom_file("examples_ybr_color.dcm"))  # YBR_FULL_422 JPEG, 30 frames
    frames = list(iter_display_frames(pydicom_file("examples_ybr_color.dcm")))
    assert len(frames) == 30
    for index in (0, 17, 29):
        assert np.array_equal(frames[index], ds.pixel_array[index])
    assert not np.array_equal(frames[0], frames[29])


def test_unsupported_photometric_interpretation_is_refused(tmp_path: Path) -> None:
    ds = pydicom.dcmread(pydicom_file("SC_rgb_rle.dcm"))
    ds.PhotometricInterpretation = "YBR_PARTIAL_420"
    ds.save_as(tmp_path / "partial.dcm")
    with pytest.raises(UnsupportedPixelData):
        first_display_frame(tmp_path / "partial.dcm")


def test_a_file_that_is_not_dicom_is_refused(tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("hello")
    with pytest.raises(UnreadableDicom):
        first_display_frame(tmp_path / "note.txt")


def test_planar_configuration_one_is_read_plane_by_plane() -> None:
    ds = pydicom.dcmread(pydicom_file("ExplVR_BigEnd.dcm"))  # RGB ultrasound, all R, then all G, then all B
    assert ds.PlanarConfiguration == 1
    shown = first_display_frame(pydicom_file("ExplVR_BigEnd.dcm"))
    planes = np.frombuffer(ds.PixelData, np.uint8).reshape(3, 60, 80)
    assert shown.shape == (60, 80, 3)
    for channel in range(3):
        assert np.array_equal(shown[..., channel], planes[channel])
    assert not np.array_equal(planes[0], planes[2])  # the planes differ, so the order matters
