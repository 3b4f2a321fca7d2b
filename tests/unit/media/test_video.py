"""Cine loops → H.264 MP4, checked by decoding the result back with PyAV."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest

from chalicelib.media.dicom_file import read_header
from chalicelib.media.dicom_render import iter_display_frames, render_cine_mp4, thumbnail
from chalicelib.media.errors import MediaError
from chalicelib.media.video import encode_mp4

from .samples import pydicom_file, rgb_cine


def top_level_boxes(path: Path) -> list[bytes]:
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, offset + 8)
        boxes.append(kind)
        offset += size if size else len(data)
    return boxes


def decode(path: Path) -> tuple[av.VideoStream, list[np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        # PyAV converts by the stream's colour tags, as a browser does.
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        return stream, frames


def test_generated_ultrasound_cine_plays_back_as_encoded(tmp_path: Path) -> None:
    cine = rgb_cine(tmp_path / "cine.dcm", frames=30, rows=120, columns=160, FrameTime=40.0)
    info = render_cine_mp4(cine, tmp_path / "cine.mp4")
    assert (info.width, info.height, info.frame_count, info.fps, info.mime) == (160, 120, 30, 25.0, "video/mp4")

    stream, frames = decode(tmp_path / "cine.mp4")
    assert len(frames) == 30
    assert stream.average_rate == 25
    assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.profile in ("High", "Main")
    assert stream.codec_context.pix_fmt == "yuv420p"
    # Browsers start playing before the download ends only when moov comes before mdat.
    boxes = top_level_boxes(tmp_path / "cine.mp4")
    assert boxes.index(b"moov") < boxes.index(b"mdat")
    # Decoded frames are the display frames, in order (the bright square moves right).
    originals = list(iter_display_frames(cine))
    for index in (0, 14, 29):
        assert np.abs(frames[index].astype(np.int16) - originals[index]).mean() < 4
    assert (
        np.abs(frames[0].astype(np.int16) - originals[29]).mean()
        > np.abs(frames[29].astype(np.int16) - originals[29]).mean()
    )


def test_colour_survives_the_trip_through_yuv(tmp_path: Path) -> None:
    red = np.zeros((64, 64, 3), np.uint8)
    red[...] = (200, 30, 30)
    encode_mp4([red] * 5, tmp_path / "red.mp4", fps=10)
    _, frames = decode(tmp_path / "red.mp4")
    assert np.abs(frames[2][32, 32].astype(np.int16) - (200, 30, 30)).max() <= 6


def test_pydicom_ultrasound_loop(tmp_path: Path) -> None:
    source = pydicom_file("examples_ybr_color.dcm")  # 30 frames of YBR_FULL_422 JPEG, 33.333 ms each
    info = render_cine_mp4(source, tmp_path / "us.mp4")
    stream, frames = decode(tmp_path / "us.mp4")
    assert (len(frames), info.frame_count) == (30, 30)
    assert stream.average_rate == 30
    assert frames[0].shape == (240, 320, 3)


def test_odd_sizes_are_padded_to_even_without_cutting_pixels(tmp_path: Path) -> None:
    grey = [np.full((33, 47), 10 * index, np.uint8) for index in range(6)]
    grey[0][:, -1] = 255  # the last column must still be there
    info = encode_mp4(grey, tmp_path / "odd.mp4", fps=12.5)
    assert (info.width, info.height) == (48, 34)
    stream, frames = decode(tmp_path / "odd.mp4")
    assert len(frames) == 6
    assert frames[0].shape == (34, 48, 3)
    assert stream.average_rate == 12.5
    assert frames[0][16, 46].min() > 200  # the white last column (and its repeated copy)


def test_no_frames_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        encode_mp4([], tmp_path / "empty.mp4", fps=25)


def test_frames_of_different_sizes_are_refused(tmp_path: Path) -> None:
    frames = [np.zeros((16, 16), np.uint8), np.zeros((16, 18), np.uint8)]
    with pytest.raises(MediaError):
        encode_mp4(frames, tmp_path / "mixed.mp4", fps=25)


def test_memory_stays_bounded_by_a_few_frames(tmp_path: Path) -> None:
    # 40 frames of 480 × 640 RGB: 36.9 MB of pixel data, encoded one frame at a time.
    cine = rgb_cine(tmp_path / "big.dcm", frames=40, rows=480, columns=640, CineRate=30)
    pixel_bytes = 40 * 480 * 640 * 3
    header = read_header(cine)

    tracemalloc.start()
    try:
        info = render_cine_mp4(cine, tmp_path / "big.mp4", header)
        _, video_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert thumbnail(cine) is not None
        _, thumbnail_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert info.frame_count == 40
    frame_bytes = pixel_bytes // 40
    assert video_peak < pixel_bytes / 4, video_peak  # holding the cine would be 36.9 MB
    assert thumbnail_peak < 8 * frame_bytes, thumbnail_peak
