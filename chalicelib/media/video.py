"""Videos: H.264 MP4 from a stream of display frames (cine loops), and chat videos without their metadata.

Encoding (``encode_mp4``), for cine loops that play in a browser ``<video>``; choices, and why:

* libx264, High profile, yuv420p: the one combination every browser decodes in hardware and software.
* Width and height made even by repeating the last row/column (4:2:0 chroma needs even sizes);
  nothing is cut off.
* Colour converted with the BT.709 matrix, limited range, and the stream tagged so: browsers then
  convert back with the same matrix instead of guessing.
* ``+faststart``: the moov index is written before the media data so playback starts while the file
  downloads. This rewrites the file once at the end, so the destination is a local path.
* Frames are encoded as they arrive; only x264's short look-ahead (10 frames) is held, never the cine.
  B-frames are allowed (every H.264 decoder in browsers supports them); presentation timestamps are
  set explicitly, one tick per frame in a 1/fps time base, so the muxer writes correct ctts/edit lists.

Stripping (``strip_video_metadata``), for videos sent in the chat: see its docstring.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from chalicelib.media.errors import MediaError, UnreadableMedia
from chalicelib.media.sources import LocalPath

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DEFAULT_CRF = 23
_PRESET = "medium"
_LOOKAHEAD_FRAMES = 10


@dataclass(frozen=True)
class VideoInfo:
    """What was written: an MP4 of ``frame_count`` frames of ``width`` × ``height`` at ``fps``."""

    width: int
    height: int
    frame_count: int
    fps: float
    mime: str = "video/mp4"


def encode_mp4(frames: Iterable[NDArray[np.uint8]], dst: LocalPath, fps: float, *, crf: int = DEFAULT_CRF) -> VideoInfo:
    """Encode (rows, columns) grey or (rows, columns, 3) RGB uint8 frames into an MP4 at ``dst``.

    Every frame must have the size of the first. Raises MediaError when there is no frame.
    """
    import av

    if not math.isfinite(fps) or fps <= 0:
        raise ValueError("fps must be a positive number")
    rate = _stream_rate(fps)
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise MediaError("no frames to encode")
    source_height, source_width = first.shape[:2]
    width, height = source_width + source_width % 2, source_height + source_height % 2

    count = 0
    with av.open(str(dst), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream: Any = container.add_stream("libx264", rate=rate)  # PyAV 14 types it as any kind of stream
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {
            "crf": str(crf),
            "preset": _PRESET,
            "x264-params": f"rc-lookahead={_LOOKAHEAD_FRAMES}",
        }
        # Tag the stream BT.709, limited range (FFmpeg's AVCOL_* codes, all 1): PyAV 14, the last release
        # with wheels for Lambda's glibc, has no enums for primaries and transfer.
        codec: Any = stream.codec_context
        codec.colorspace, codec.color_range = _BT709, _MPEG_RANGE
        codec.color_primaries, codec.color_trc = _BT709, _BT709
        for pixels in itertools.chain([first], iterator):
            if pixels.shape[:2] != (source_height, source_width):
                raise MediaError("frames differ in size")
            frame = av.VideoFrame.from_ndarray(_even(pixels), format="gray" if pixels.ndim == 2 else "rgb24")
            # PyAV 14 converts by the stream's BT.709 tags; naming the colour space again here shifted the
            # colours by ~5 levels (measured by tests/unit/media/test_video.py), so it is left implicit.
            frame = frame.reformat(format="yuv420p")
            frame.pts = count
            container.mux(stream.encode(frame))
            count += 1
        container.mux(stream.encode(None))
    return VideoInfo(width=width, height=height, frame_count=count, fps=float(rate))


_BT709 = 1
_MPEG_RANGE = 1


def _stream_rate(fps: float) -> Fraction:
    """The frame rate as the exact fraction the stream is timed in.

    DICOM timing is often a rounded frame time (33.333 ms); a rate within 0.01 % of a whole number
    is taken as that number so players report 30 fps, not 30.0003.
    """
    nearest = round(fps)
    if nearest and abs(fps - nearest) <= fps * 1e-4:
        return Fraction(nearest)
    return Fraction(fps).limit_denominator(1001)


def _even(pixels: NDArray[np.uint8]) -> NDArray[Any]:
    import numpy as np

    pad_rows, pad_columns = pixels.shape[0] % 2, pixels.shape[1] % 2
    if not (pad_rows or pad_columns):
        return np.ascontiguousarray(pixels)
    padding = [(0, pad_rows), (0, pad_columns)] + [(0, 0)] * (pixels.ndim - 2)
    return np.pad(pixels, padding, mode="edge")


# Sniffed MIME type of a chat video → the FFmpeg muxer that writes the same container again.
_MUXERS = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}
# Muxer options: no "encoder" tag naming our FFmpeg; the index first, so the browser plays while it loads.
_MUXER_OPTIONS = {
    "mp4": {"fflags": "+bitexact", "movflags": "+faststart"},
    "mov": {"fflags": "+bitexact", "movflags": "+faststart"},
    "webm": {"fflags": "+bitexact"},
}


def strip_video_metadata(src: LocalPath, dst: LocalPath, mime: str) -> None:
    """Write the video at ``src`` to ``dst`` in the same container, keeping only its pictures and sound.

    Phones store where and when a video was shot, and with what, as container and track metadata
    (QuickTime ``©xyz`` and ``com.apple.quicktime.location.ISO6709``, ``make``, ``model``,
    ``creation_time``…) and in data and timecode tracks. The streams are copied packet by packet into a
    new container (FFmpeg's ``-map 0:v -map 0:a -map_metadata -1 -c copy``): every video track (cover
    art excepted) and every audio track, bit for bit, nothing re-encoded; no metadata, chapters, data,
    timecode or subtitle tracks. The display rotation is not metadata but part of a track's codec
    parameters, so a video shot upright stays upright.

    Sound stays: the sender recorded it knowingly and it is often what the clinic needs to hear (a
    cough, breathing, speech); the chat's refusal of audio files is about voice messages, and a file
    with sound but no pictures is still refused as audio by the sniffer before it gets here.

    Raises UnreadableMedia when the file has no video track or FFmpeg cannot copy it.
    """
    import av

    muxer = _MUXERS.get(mime)
    if muxer is None:
        raise UnreadableMedia("not a video the chat keeps")
    try:
        with av.open(str(src), mode="r") as source:
            pictures = [s for s in source.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
            if not pictures:
                raise UnreadableMedia("no video track")
            with av.open(str(dst), mode="w", format=muxer, options=_MUXER_OPTIONS[muxer]) as target:
                # opaque=True copies the stream's codec context: without it PyAV 14 builds a fresh encoder
                # for a video template whose parameters replace the source's, and the copy does not play
                # (PyAV-Org/PyAV#1903). Metadata is not copied either way.
                copies: dict[int, av.VideoStream | av.AudioStream] = {
                    s.index: target.add_stream_from_template(s, opaque=True) for s in pictures
                }
                copies.update({s.index: target.add_stream_from_template(s, opaque=True) for s in source.streams.audio})
                for packet in source.demux([source.streams[index] for index in copies]):
                    # The demuxer ends each stream with an empty flush packet, which has no timestamp.
                    if packet.size == 0:
                        continue
                    packet.stream = copies[packet.stream.index]
                    target.mux(packet)
    except (av.FFmpegError, OSError, ValueError, EOFError) as err:
        raise UnreadableMedia("not a readable video") from err
