"""Stills, thumbnails and the JPEG/PNG choice for DICOM objects."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate, generate_frames

from chalicelib.media.dicom_file import read_header
from chalicelib.media.dicom_render import (
    first_display_frame,
    iter_display_frames,
    render_stills,
    still_format,
    thumbnail,
)
from chalicelib.media.errors import UnsupportedPixelData

from .samples import pydicom_file


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CT_small.dcm", "png"),  # grayscale, one frame, native
        ("MR_small_RLE.dcm", "png"),  # grayscale, lossless RLE
        ("JPEG2000.dcm", "jpeg"),  # grayscale but already lossy JPEG 2000
        ("JPGExtended.dcm", "jpeg"),  # grayscale but lossy JPEG
        ("rtdose.dcm", "jpeg"),  # a 15-frame stack
        ("SC_rgb_rle.dcm", "jpeg"),  # colour
        ("examples_palette.dcm", "jpeg"),
    ],
)
def test_still_format_policy(name: str, expected: str) -> None:
    assert still_format(read_header(pydicom_file(name))) == expected


def test_png_still_holds_exactly_the_display_pixels() -> None:
    (only,) = list(render_stills(pydicom_file("CT_small.dcm")))
    assert (only.index, only.mime) == (0, "image/png")
    decoded = Image.open(io.BytesIO(only.data))
    assert (decoded.format, decoded.mode, decoded.size) == ("PNG", "L", (128, 128))
    assert np.array_equal(np.asarray(decoded), first_display_frame(pydicom_file("CT_small.dcm")))


def test_jpeg_stills_one_per_frame_progressive_and_faithful() -> None:
    stills = list(render_stills(pydicom_file("SC_rgb_rle_2frame.dcm")))
    assert [still.index for still in stills] == [0, 1]
    frames = list(iter_display_frames(pydicom_file("SC_rgb_rle_2frame.dcm")))
    for still, frame in zip(stills, frames, strict=True):
        assert still.mime == "image/jpeg"
        decoded = Image.open(io.BytesIO(still.data))
        assert (decoded.format, decoded.mode, decoded.size) == ("JPEG", "RGB", (100, 100))
        assert decoded.info.get("progressive") or decoded.info.get("progression")
        assert np.abs(np.asarray(decoded).astype(np.int16) - frame).mean() < 3


def test_format_can_be_overridden_by_the_clinic() -> None:
    (only,) = list(render_stills(pydicom_file("CT_small.dcm"), still_format_override="jpeg"))
    assert only.mime == "image/jpeg"
    assert Image.open(io.BytesIO(only.data)).format == "JPEG"


def test_thumbnail_fits_the_box_and_keeps_the_aspect_ratio() -> None:
    data = thumbnail(pydicom_file("examples_jpeg2k.dcm"))  # 640 × 480 JPEG 2000 ultrasound
    assert data is not None
    picture = Image.open(io.BytesIO(data))
    assert (picture.format, picture.size) == ("JPEG", (256, 192))


def test_thumbnail_of_a_cine_is_its_first_frame_from_a_file_object() -> None:
    path = pydicom_file("examples_ybr_color.dcm")
    with open(path, "rb") as file:
        data = thumbnail(file)
    assert data is not None
    picture = np.asarray(Image.open(io.BytesIO(data)))
    assert picture.shape == (192, 256, 3)  # 320 × 240 fit inside 256 × 256
    frames = [Image.fromarray(frame).resize((256, 192)) for frame in iter_display_frames(path)]
    first, last = np.asarray(frames[0]).astype(np.int16), np.asarray(frames[-1]).astype(np.int16)
    assert np.abs(picture - first).mean() < np.abs(picture - last).mean()
    assert np.abs(picture - first).mean() < 4


class OneWayStream(io.RawIOBase):
    """A stream that can only be read forwards, like an S3 response body."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_thumbnail_from_a_stream_that_cannot_seek() -> None:
    data = Path(pydicom_file("MR_small.dcm")).read_bytes()
    stream = OneWayStream(data)
    assert not stream.seekable()
    from_stream = thumbnail(stream)  # type: ignore[arg-type]
    assert from_stream == thumbnail(pydicom_file("MR_small.dcm"))


def test_thumbnail_decodes_only_the_first_frame(tmp_path: Path) -> None:
    ds = pydicom.dcmread(pydicom_file("SC_rgb_rle_2frame.dcm"))
    first, second = generate_frames(ds.PixelData, number_of_frames=2)
    ds.PixelData = encapsulate([first, b"\x00" * len(second)])  # the second frame is garbage
    ds.save_as(tmp_path / "broken_second_frame.dcm")

    data = thumbnail(tmp_path / "broken_second_frame.dcm")
    assert data is not None
    assert Image.open(io.BytesIO(data)).size == (100, 100)
    with pytest.raises(UnsupportedPixelData):
        list(iter_display_frames(tmp_path / "broken_second_frame.dcm"))


def test_objects_without_an_image_have_no_thumbnail() -> None:
    assert thumbnail(pydicom_file("test-SR.dcm")) is None
