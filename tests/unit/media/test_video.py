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
from chalicelib.media.errors import MediaError, UnreadableMedia
from chalicelib.media.video import encode_mp4, strip_video_metadata

from . import samples
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


# ---------------------------------------------------------------- chat videos without their metadata

PHONE_TAGS = ("location", "make", "model", "creation_time", "com.apple.quicktime", "timecode")


def tags(path: Path) -> dict[str, str]:
    """Every tag FFmpeg reads from the container and its tracks, as ``where:name``."""
    with av.open(str(path)) as container:
        found = {f"container:{k}": v for k, v in container.metadata.items()}
        for stream in container.streams:
            found.update({f"{stream.type}{stream.index}:{k}": v for k, v in stream.metadata.items()})
        return found


def phone_tags(path: Path) -> dict[str, str]:
    return {k: v for k, v in tags(path).items() if any(tag in k for tag in PHONE_TAGS)}


def packets(path: Path, kind: str) -> list[bytes]:
    with av.open(str(path)) as container:
        streams = [s for s in container.streams if s.type == kind]
        return [bytes(p) for p in container.demux(streams) if p.size]


def pictures(path: Path) -> tuple[list[np.ndarray], int]:
    """The decoded frames and their display rotation."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
        return [f.to_ndarray(format="rgb24") for f in frames], frames[0].rotation


def movie_time(path: Path) -> int:
    """The creation time in the movie header (mvhd, version 0), in seconds since 1904."""
    data = path.read_bytes()
    (seconds,) = struct.unpack_from(">I", data, data.index(b"mvhd") + 8)
    return int(seconds)


@pytest.mark.parametrize("mdta", [False, True], ids=["udta", "mdta"])
def test_a_phone_video_loses_where_when_and_with_what_it_was_shot(tmp_path: Path, mdta: bool) -> None:
    source, cleaned = tmp_path / "in.mov", tmp_path / "out.mov"
    original = samples.phone_video(source, mdta=mdta)
    assert samples.VIDEO_POSITION.encode() in original
    assert samples.VIDEO_MAKE.encode() in original
    assert phone_tags(source), "the sample must carry what a phone writes"
    assert movie_time(source) > 0
    with av.open(str(source)) as container:
        assert [s.type for s in container.streams] == ["video", "audio", "data"]  # data: the timecode track

    strip_video_metadata(source, cleaned, "video/quicktime")

    stripped = cleaned.read_bytes()
    for marker in (samples.VIDEO_POSITION, samples.VIDEO_MAKE, samples.VIDEO_MODEL, "\xa9xyz", "com.apple", "tmcd"):
        assert marker.encode("latin-1") not in stripped, marker
    assert phone_tags(cleaned) == {}
    assert movie_time(cleaned) == 0
    with av.open(str(cleaned)) as container:
        assert container.format.name.startswith("mov")
        assert [s.type for s in container.streams] == ["video", "audio"]  # the timecode track is gone
    # Pictures and sound are copied bit for bit: nothing was re-encoded.
    assert packets(cleaned, "video") == packets(source, "video")
    assert packets(cleaned, "audio") == packets(source, "audio")
    assert np.array_equal(np.stack(pictures(cleaned)[0]), np.stack(pictures(source)[0]))


@pytest.mark.parametrize("degrees", [90, 270])
def test_a_video_shot_upright_stays_upright(tmp_path: Path, degrees: int) -> None:
    source = tmp_path / "in.mov"
    samples.phone_video(source, rotation=degrees)
    strip_video_metadata(source, tmp_path / "out.mov", "video/quicktime")
    assert pictures(tmp_path / "out.mov")[1] == pictures(source)[1] != 0


@pytest.mark.parametrize(
    ("container", "mime", "codec"), [("mp4", "video/mp4", "libx264"), ("webm", "video/webm", "libvpx-vp9")]
)
def test_mp4_and_webm_keep_their_container_and_frames(tmp_path: Path, container: str, mime: str, codec: str) -> None:
    source, cleaned = tmp_path / f"in.{container}", tmp_path / f"out.{container}"
    samples.encode_video(source, container=container, codec=codec)
    strip_video_metadata(source, cleaned, mime)
    assert packets(cleaned, "video") == packets(source, "video")
    assert not any("encoder" in k.lower() and "Lavf6" in v for k, v in tags(cleaned).items())
    with av.open(str(cleaned)) as output:
        assert container in output.format.name


def test_a_file_without_pictures_or_not_a_video_is_unreadable(tmp_path: Path) -> None:
    sound = tmp_path / "a.m4a"
    samples.encode_audio(sound, "mp4", "aac", 44100)
    with pytest.raises(UnreadableMedia):
        strip_video_metadata(sound, tmp_path / "out.mp4", "video/mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(samples.encode_video(tmp_path / "v.mp4")[:300])
    with pytest.raises(UnreadableMedia):
        strip_video_metadata(broken, tmp_path / "out2.mp4", "video/mp4")
    with pytest.raises(UnreadableMedia):
        strip_video_metadata(tmp_path / "v.mp4", tmp_path / "out3.mkv", "video/x-matroska")
