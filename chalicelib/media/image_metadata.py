"""Removing metadata from chat pictures while keeping them upright.

What goes: EXIF (GPS position, camera serial, dates, thumbnails), XMP, IPTC/Photoshop blocks,
comments, PNG text chunks (tEXt/zTXt/iTXt/eXIf), GIF comment and application extensions (other than
looping). What stays: the pixels, the ICC colour profile (a colour description, no personal data;
dropping it would shift colours of wide-gamut phone photos), transparency, and animation timing.

How: the picture is decoded, turned upright with ``ImageOps.exif_transpose`` (so dropping the
Orientation tag does not leave it sideways), and encoded anew with only the kept information.
Re-encoding rather than cutting metadata segments out also drops data hidden in unusual places.

Output format: the input's format — JPEG (quality 92), PNG (lossless, APNG stays animated), GIF
(animation, frame durations, looping and transparency kept; Pillow re-quantizes frames beyond the
first), WebP (quality 90, animation kept). HEIC/HEIF becomes JPEG, because only Safari shows HEIC.
A multi-picture JPEG (MPO) keeps only its first picture. An animation larger than
``ANIMATION_PIXEL_BUDGET`` decoded pixels keeps only its first frame (bounded worker memory).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from chalicelib.media.pictures import open_picture
from chalicelib.media.sources import LocalPath, Source
from chalicelib.media.still import flatten_to_rgb

if TYPE_CHECKING:
    from PIL import Image

JPEG_QUALITY = 92
WEBP_QUALITY = 90
# Sum of width × height over all frames kept in memory for re-encoding an animation.
ANIMATION_PIXEL_BUDGET = 200_000_000

# Pillow format of the input → (Pillow format written, MIME type of the output).
_OUTPUT_FORMATS = {
    "JPEG": ("JPEG", "image/jpeg"),
    "MPO": ("JPEG", "image/jpeg"),
    "PNG": ("PNG", "image/png"),
    "GIF": ("GIF", "image/gif"),
    "WEBP": ("WEBP", "image/webp"),
    "HEIF": ("JPEG", "image/jpeg"),
}
_ANIMATED_FORMATS = frozenset({"PNG", "GIF", "WEBP"})
_JPEG_MODES = frozenset({"L", "RGB", "CMYK"})


@dataclass(frozen=True)
class ImageInfo:
    """The written picture: its MIME type, upright size in pixels and number of frames."""

    mime: str
    width: int
    height: int
    frame_count: int


def strip_image_metadata(src: Source, dst: LocalPath | BinaryIO) -> ImageInfo:
    """Write ``src`` to ``dst`` upright and without metadata (see the module doc for what is kept).

    Raises UnreadableMedia for anything but a readable JPEG, PNG, GIF, WebP or HEIC/HEIF, and
    CodecUnavailable for HEIC/HEIF without pillow-heif.
    """
    with open_picture(src) as image:
        assert image.format is not None  # set by every Pillow opener
        out_format, mime = _OUTPUT_FORMATS[image.format]
        frames, durations = _upright_frames(image, animated=out_format in _ANIMATED_FORMATS)
        encoded = _encode(frames, durations, image.info, out_format)
    if isinstance(dst, str | os.PathLike):
        with open(dst, "wb") as file:
            file.write(encoded)
    else:
        dst.write(encoded)
    return ImageInfo(mime=mime, width=frames[0].width, height=frames[0].height, frame_count=len(frames))


def _upright_frames(image: Image.Image, *, animated: bool) -> tuple[list[Image.Image], list[float]]:
    """Each frame as a fresh, upright image carrying no metadata, and each frame's duration (ms)."""
    from PIL import ImageOps

    frame_count = getattr(image, "n_frames", 1) if animated else 1
    if frame_count * image.width * image.height > ANIMATION_PIXEL_BUDGET:
        frame_count = 1
    frames: list[Image.Image] = []
    durations: list[float] = []
    for index in range(frame_count):
        image.seek(index)
        upright = ImageOps.exif_transpose(image)  # a new image, orientation applied
        assert upright is not None  # not in place, so always an image
        upright.load()
        transparency = upright.info.get("transparency", image.info.get("transparency"))
        durations.append(float(image.info.get("duration", 0) or 0))
        upright.info = {"transparency": transparency} if transparency is not None else {}
        frames.append(upright)
    return frames, durations


def _encode(
    frames: list[Image.Image], durations: list[float], source_info: Mapping[str | tuple[int, int], Any], out_format: str
) -> bytes:
    options: dict[str, Any] = {}
    if icc_profile := source_info.get("icc_profile"):
        options["icc_profile"] = icc_profile
    first = frames[0]
    if out_format == "JPEG":
        first = first if first.mode in _JPEG_MODES else flatten_to_rgb(first)
        options.update(quality=JPEG_QUALITY, optimize=True)
    elif out_format == "WEBP":
        options.update(quality=WEBP_QUALITY)
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], duration=durations)
        if "loop" in source_info:  # absent means "play once" in GIF; keep that
            options["loop"] = source_info["loop"]
    elif "transparency" in first.info and out_format in ("PNG", "GIF"):
        options["transparency"] = first.info["transparency"]
    buffer = io.BytesIO()
    first.save(buffer, format=out_format, **options)
    return buffer.getvalue()
