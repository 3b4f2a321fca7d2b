"""Metadata stripping: nothing personal left in the bytes, pictures still upright."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageSequence

from chalicelib.media.errors import UnreadableMedia
from chalicelib.media.image_metadata import ImageInfo, strip_image_metadata

from . import samples

RED, BLUE = np.array([255, 0, 0]), np.array([0, 0, 255])


def strip(data: bytes) -> tuple[ImageInfo, bytes]:
    output = io.BytesIO()
    info = strip_image_metadata(io.BytesIO(data), output)
    return info, output.getvalue()


def assert_no_metadata(data: bytes) -> None:
    for marker in (
        b"GPS",
        b"Exif",
        b"http://ns.adobe.com/xap",
        samples.GPS_DATUM.encode(),
        samples.CAMERA_OWNER.encode(),
    ):
        assert marker not in data, marker
    picture = Image.open(io.BytesIO(data))
    assert not picture.getexif()
    assert "xmp" not in picture.info
    assert "comment" not in picture.info


def colour_at(picture: Image.Image, x: int, y: int) -> np.ndarray:
    return np.asarray(picture.convert("RGB"))[y, x].astype(np.int16)


def is_close(colour: np.ndarray, expected: np.ndarray) -> bool:
    return bool(np.abs(colour - expected).max() < 40)


def test_jpeg_loses_gps_exif_xmp_and_comment_and_is_turned_upright(tmp_path: Path) -> None:
    original = samples.jpeg_with_gps(width=80, height=40, orientation=6)
    before = Image.open(io.BytesIO(original))
    assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really has a position
    assert samples.GPS_DATUM.encode() in original

    info = strip_image_metadata(io.BytesIO(original), tmp_path / "clean.jpg")
    data = (tmp_path / "clean.jpg").read_bytes()
    assert info == ImageInfo(mime="image/jpeg", width=40, height=80, frame_count=1)
    assert_no_metadata(data)
    picture = Image.open(io.BytesIO(data))
    assert (picture.format, picture.size) == ("JPEG", (40, 80))  # orientation 6: 90° clockwise
    # The left (red) half of the stored picture is now on top.
    assert is_close(colour_at(picture, 20, 10), RED)
    assert is_close(colour_at(picture, 20, 70), BLUE)


def test_jpeg_without_orientation_keeps_its_shape() -> None:
    info, data = strip(samples.jpeg_with_gps(width=80, height=40, orientation=1))
    assert (info.width, info.height) == (80, 40)
    assert_no_metadata(data)
    assert is_close(colour_at(Image.open(io.BytesIO(data)), 10, 20), RED)


def test_icc_profile_is_kept() -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.fromarray(samples.halves(20, 20)).save(
        buffer, format="JPEG", icc_profile=profile, exif=samples.exif_with_gps(1).tobytes()
    )
    _, data = strip(buffer.getvalue())
    assert Image.open(io.BytesIO(data)).info.get("icc_profile") == profile
    assert_no_metadata(data)


def test_png_text_chunks_and_exif_are_removed_transparency_kept() -> None:
    original = samples.png_with_text()
    assert samples.CAMERA_OWNER.encode() in original or b"zTXt" in original
    info, data = strip(original)
    assert info == ImageInfo(mime="image/png", width=30, height=20, frame_count=1)
    assert_no_metadata(data)
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert chunk not in data
    picture = Image.open(io.BytesIO(data))
    assert picture.mode == "RGBA"
    before = np.asarray(Image.open(io.BytesIO(original)))
    assert np.array_equal(np.asarray(picture), before)  # PNG stays lossless


def test_animated_gif_keeps_frames_timing_and_loop_but_not_its_comment() -> None:
    original = samples.animated_gif(frames=4)
    assert samples.CAMERA_OWNER.encode() in original
    info, data = strip(original)
    assert info == ImageInfo(mime="image/gif", width=16, height=16, frame_count=4)
    assert samples.CAMERA_OWNER.encode() not in data
    picture = Image.open(io.BytesIO(data))
    assert getattr(picture, "n_frames", 1) == 4
    assert picture.info.get("loop") == 0
    assert "comment" not in picture.info
    durations = []
    colours = []
    for frame in ImageSequence.Iterator(picture):
        durations.append(frame.info.get("duration"))
        colours.append(tuple(np.asarray(frame.convert("RGB"))[8, 8]))
    assert durations == [100, 200, 300, 400]
    original_colours = [
        tuple(np.asarray(frame.convert("RGB"))[8, 8])
        for frame in ImageSequence.Iterator(Image.open(io.BytesIO(original)))
    ]
    assert colours == original_colours


@pytest.mark.parametrize(("pillow_format", "mime"), [("WEBP", "image/webp"), ("PNG", "image/png")])
def test_animated_webp_and_png_stay_animated(pillow_format: str, mime: str) -> None:
    frames = [Image.new("RGB", (20, 10), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format=pillow_format,
        save_all=True,
        append_images=frames[1:],
        duration=[100, 150, 200],
        loop=0,
        exif=samples.exif_with_gps(1).tobytes(),
    )
    info, data = strip(buffer.getvalue())
    assert info == ImageInfo(mime=mime, width=20, height=10, frame_count=3)
    assert_no_metadata(data)
    picture = Image.open(io.BytesIO(data))
    durations, colours = [], []
    for index in range(getattr(picture, "n_frames", 1)):
        picture.seek(index)
        picture.load()  # WebP reports a frame's duration once it is decoded
        durations.append(picture.info.get("duration"))
        colours.append(colour_at(picture, 5, 5))
    assert durations == [100, 150, 200]
    for colour, expected in zip(colours, ([255, 0, 0], [0, 128, 0], [0, 0, 255]), strict=True):
        assert is_close(colour, np.array(expected))


def test_webp_loses_exif_and_is_turned_upright() -> None:
    original = samples.webp_with_exif(width=60, height=30, orientation=8)
    assert Image.open(io.BytesIO(original)).getexif().get(ExifTags.Base.Orientation) == 8
    info, data = strip(original)
    assert info == ImageInfo(mime="image/webp", width=30, height=60, frame_count=1)
    assert_no_metadata(data)
    picture = Image.open(io.BytesIO(data))
    # Orientation 8: 90° counter-clockwise, so the left (red) half ends at the bottom.
    assert is_close(colour_at(picture, 15, 50), RED)
    assert is_close(colour_at(picture, 15, 10), BLUE)


def test_heic_becomes_an_upright_jpeg_without_metadata() -> None:
    pytest.importorskip("pillow_heif")
    original = samples.heic_with_exif(width=64, height=32, orientation=6)
    assert samples.GPS_DATUM.encode() in original
    info, data = strip(original)
    assert info == ImageInfo(mime="image/jpeg", width=32, height=64, frame_count=1)
    assert_no_metadata(data)
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG"
    assert is_close(colour_at(picture, 16, 10), RED)
    assert is_close(colour_at(picture, 16, 54), BLUE)


@pytest.mark.parametrize(
    "content",
    [
        samples.pdf(),
        samples.wav(),
        b"not a picture at all",
        samples.jpeg_with_gps()[:200],  # truncated
    ],
)
def test_non_pictures_are_refused(content: bytes) -> None:
    with pytest.raises(UnreadableMedia):
        strip(content)


def test_other_picture_formats_are_refused() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="TIFF")
    with pytest.raises(UnreadableMedia):
        strip(buffer.getvalue())
