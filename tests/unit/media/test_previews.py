from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chalicelib.media.errors import UnreadableMedia
from chalicelib.media.previews import image_thumbnail, video_poster

from . import samples


def test_photo_thumbnail_fits_and_is_upright() -> None:
    data = image_thumbnail(io.BytesIO(samples.jpeg_with_gps(width=800, height=400, orientation=6)))
    picture = Image.open(io.BytesIO(data))
    assert (picture.format, picture.size) == ("JPEG", (160, 320))
    assert not picture.getexif()
    top, bottom = np.asarray(picture)[20, 80], np.asarray(picture)[300, 80]
    assert top[0] > 200
    assert top[2] < 60
    assert bottom[2] > 200
    assert bottom[0] < 60


def test_small_pictures_are_not_enlarged(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    path.write_bytes(samples.png_with_text(width=30, height=20))
    picture = Image.open(io.BytesIO(image_thumbnail(path)))
    assert (picture.format, picture.mode, picture.size) == ("JPEG", "RGB", (30, 20))


def test_animated_gif_thumbnail_is_its_first_frame() -> None:
    picture = Image.open(io.BytesIO(image_thumbnail(io.BytesIO(samples.animated_gif()))))
    first = Image.open(io.BytesIO(samples.animated_gif())).convert("RGB")
    assert picture.size == (16, 16)
    assert np.abs(np.asarray(picture).astype(np.int16) - np.asarray(first)).max() < 20


def test_heic_thumbnail() -> None:
    pytest.importorskip("pillow_heif")
    picture = Image.open(io.BytesIO(image_thumbnail(io.BytesIO(samples.heic_with_exif(width=64, height=32)))))
    assert (picture.format, picture.size) == ("JPEG", (32, 64))


@pytest.mark.parametrize(("container", "codec"), [("mp4", "libx264"), ("mov", "libx264"), ("webm", "libvpx-vp9")])
def test_video_poster_is_the_frame_half_a_second_in(tmp_path: Path, container: str, codec: str) -> None:
    # 10 fps, frame i is grey 20 * i: the frame at 0.5 s is number 5, grey 100.
    path = tmp_path / f"clip.{container}"
    samples.encode_video(path, container=container, codec=codec, frames=10, fps=10)
    picture = Image.open(io.BytesIO(video_poster(path)))
    assert (picture.format, picture.size) == ("JPEG", (64, 48))
    assert abs(float(np.asarray(picture).mean()) - 100) < 6


def test_short_video_poster_is_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "short.mp4"
    samples.encode_video(path, frames=3, fps=10)  # 0.3 s
    picture = Image.open(io.BytesIO(video_poster(path)))
    assert float(np.asarray(picture).mean()) < 6


def test_audio_only_file_has_no_poster(tmp_path: Path) -> None:
    data = samples.encode_audio(tmp_path / "voice.m4a", "ipod", "aac", 44100)
    with pytest.raises(UnreadableMedia):
        video_poster(io.BytesIO(data))


def test_garbage_has_no_poster() -> None:
    with pytest.raises(UnreadableMedia):
        video_poster(io.BytesIO(b"\x00" * 1000))
