"""Audio or video? For containers that hold either: ISO-BMFF (MP4/MOV/M4A/HEIF), Matroska/WebM, Ogg.

The brand in an MP4's ``ftyp`` box settles the clear cases (M4A is audio, ``heic`` is an image,
``qt  `` is QuickTime). Generic brands (``isom``, ``mp42``…), WebM and Ogg say nothing about the
tracks, so PyAV (FFmpeg) lists them: a file with a video track is video, one with only audio is audio.
Cover art that FFmpeg shows as a video stream (``attached_pic``) does not count as video.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

OTHER_BINARY = "application/octet-stream"

_HEIC_BRANDS = frozenset({"heic", "heix", "heim", "heis"})
_HEIF_BRANDS = frozenset({"mif1", "mif2"})
_HEIF_SEQUENCE_BRANDS = frozenset({"msf1", "hevc", "hevx"})
_AVIF_BRANDS = frozenset({"avif", "avis"})
_AUDIO_BRANDS = frozenset({"M4A ", "M4B ", "M4P ", "F4A ", "F4B "})
_QUICKTIME_BRAND = "qt  "
_3GPP_PREFIXES = ("3gp", "3g2", "3ge", "3gg", "3gs")
# Top-level atoms that old QuickTime files start with instead of ftyp.
_QUICKTIME_FIRST_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


@dataclass(frozen=True)
class Tracks:
    """Which kinds of track a container holds."""

    video: bool
    audio: bool


def probe_tracks(file: BinaryIO) -> Tracks | None:
    """The container's tracks as FFmpeg sees them, or None when FFmpeg cannot read it.

    The file object is given without a name so that FFmpeg probes the bytes, not an extension.
    """
    import av

    file.seek(0)
    try:
        with av.open(file, mode="r") as container:
            video = any(
                not (stream.disposition & av.stream.Disposition.attached_pic) for stream in container.streams.video
            )
            return Tracks(video=video, audio=bool(container.streams.audio))
    except (av.FFmpegError, OSError, ValueError, EOFError):
        return None
    return None  # PyAV 14's types allow the container's context manager to swallow an error


def is_isobmff(head: bytes) -> bool:
    """True for an ISO base media file (MP4, MOV, M4A, 3GP, HEIF…): ``ftyp`` or a QuickTime atom first."""
    return len(head) >= 12 and (head[4:8] == b"ftyp" or head[4:8] in _QUICKTIME_FIRST_ATOMS)


def isobmff_type(head: bytes, file: BinaryIO) -> str:
    """The MIME type of an ISO base media file."""
    brands = _ftyp_brands(head)
    if brands is None:  # QuickTime without ftyp
        return _by_tracks(file, video="video/quicktime", audio="audio/mp4")
    major, all_brands = brands
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and all_brands & _HEIC_BRANDS):
        return "image/heic"
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and all_brands & _AVIF_BRANDS):
        return "image/avif"
    if major in _HEIF_BRANDS:
        return "image/heif"
    if major in _HEIF_SEQUENCE_BRANDS:
        return "image/heif-sequence"
    if major in _AUDIO_BRANDS:
        return "audio/mp4"
    if major == _QUICKTIME_BRAND:
        return _by_tracks(file, video="video/quicktime", audio="audio/mp4")
    if major.startswith(_3GPP_PREFIXES):
        return _by_tracks(file, video="video/3gpp", audio="audio/3gpp")
    return _by_tracks(file, video="video/mp4", audio="audio/mp4")


def _ftyp_brands(head: bytes) -> tuple[str, frozenset[str]] | None:
    if head[4:8] != b"ftyp":
        return None
    (size,) = struct.unpack_from(">I", head, 0)
    size = min(size, len(head))
    major = head[8:12].decode("latin-1")
    compatible = {head[i : i + 4].decode("latin-1") for i in range(16, size - 3, 4)}
    return major, frozenset(compatible | {major})


def is_matroska(head: bytes) -> bool:
    """True for an EBML file (Matroska, WebM)."""
    return head.startswith(b"\x1a\x45\xdf\xa3")


def matroska_type(head: bytes, file: BinaryIO) -> str:
    """The MIME type of a Matroska or WebM file, by its EBML DocType and its tracks."""
    if _ebml_doc_type(head) == "webm":
        return _by_tracks(file, video="video/webm", audio="audio/webm")
    return _by_tracks(file, video="video/x-matroska", audio="audio/x-matroska")


def _ebml_doc_type(head: bytes) -> str | None:
    """The DocType string of the EBML header (element 0x4282), which sits in the first bytes."""
    at = head.find(b"\x42\x82", 4, 64)
    if at < 0 or at + 3 > len(head):
        return None
    first = head[at + 2]
    if first == 0:
        return None
    length_bytes = 9 - first.bit_length()  # EBML variable-size integer: leading zeros give its length
    size = first & (0xFF >> length_bytes)
    for byte in head[at + 3 : at + 2 + length_bytes]:
        size = (size << 8) | byte
    start = at + 2 + length_bytes
    return head[start : start + size].decode("ascii", errors="replace")


def is_ogg(head: bytes) -> bool:
    """True for an Ogg stream (Vorbis, Opus, FLAC, Speex audio; Theora video)."""
    return head.startswith(b"OggS")


def ogg_type(file: BinaryIO) -> str:
    """The MIME type of an Ogg file: ``video/ogg`` with a video track, else ``audio/ogg``."""
    tracks = probe_tracks(file)
    if tracks is not None and tracks.video:
        return "video/ogg"
    # An Ogg that FFmpeg cannot list is still an Ogg of audio as far as the chat is concerned:
    # refusing it as audio is the safe reading of a renamed voice message.
    return "audio/ogg"


def _by_tracks(file: BinaryIO, *, video: str, audio: str) -> str:
    tracks = probe_tracks(file)
    if tracks is None:
        return OTHER_BINARY
    if tracks.video:
        return video
    if tracks.audio:
        return audio
    return OTHER_BINARY
