"""DICOM objects → what a patient or a clinic screen sees: JPEG/PNG stills, MP4 cines, thumbnails.

Which format when:

* A cine (``cine.is_cine``: multi-frame with timing, or US multi-frame) becomes one H.264 MP4.
* Other images become one still per frame. PNG when the image is grayscale, single-frame and stored
  losslessly (CT, MR, CR, DX slices): a second, lossy step would add ringing to sharp edges and
  burned-in text, and windowed grayscale compresses well in PNG. JPEG (quality 90, progressive,
  4:4:4) for everything else: colour and photo-like images (US, endoscopy, secondary capture),
  multi-frame stacks and anything already lossy-compressed, where PNG would only make files bigger.
* A thumbnail is a JPEG of the first frame only, fit inside 256 × 256, decoding no other frame.

Inputs are a local path or a binary file, even one that cannot seek (see ``sources.open_source``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.media import still
from chalicelib.media.cine import frame_rate, is_cine, number_of_frames
from chalicelib.media.dicom_display import DisplayMapping, display_kind
from chalicelib.media.dicom_file import has_image, read_header, stored_losslessly
from chalicelib.media.dicom_frames import iter_decoded_frames
from chalicelib.media.sources import LocalPath, Source, open_source
from chalicelib.media.still import StillFormat
from chalicelib.media.video import VideoInfo, encode_mp4

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from pydicom.dataset import Dataset

THUMBNAIL_SIDE = 256


@dataclass(frozen=True)
class RenderedStill:
    """One frame encoded as a picture: ``index`` is the 0-based frame number."""

    index: int
    mime: str
    data: bytes


def iter_display_frames(src: Source, header: Dataset | None = None) -> Iterator[NDArray[np.uint8]]:
    """Yield every frame as 8-bit display pixels, decoding one frame at a time.

    ``header`` saves re-reading it when the caller already has it (from ``read_header``).
    """
    # One open_source for the whole operation: a stream that cannot seek is buffered only once.
    with open_source(src) as file:
        header = read_header(file) if header is None else header
        mapping: DisplayMapping | None = None
        for frame in iter_decoded_frames(file, header):
            if mapping is None:
                mapping = DisplayMapping.for_image(header, frame)
            yield mapping.apply(frame)


def first_display_frame(src: Source, header: Dataset | None = None) -> NDArray[np.uint8]:
    """The first frame as 8-bit display pixels; no other frame is decoded."""
    with open_source(src) as file:
        header = read_header(file) if header is None else header
        frame = next(iter(iter_decoded_frames(file, header, indices=[0])))
        return DisplayMapping.for_image(header, frame).apply(frame)


def still_format(header: Dataset) -> StillFormat:
    """PNG for single-frame, losslessly stored grayscale images, JPEG otherwise (see module doc)."""
    grayscale = display_kind(header) == "grayscale"
    return "png" if grayscale and stored_losslessly(header) and number_of_frames(header) == 1 else "jpeg"


def render_stills(
    src: Source, header: Dataset | None = None, still_format_override: StillFormat | None = None
) -> Iterator[RenderedStill]:
    """Yield each frame as a JPEG or PNG (``still_format`` unless overridden), one frame in memory."""
    with open_source(src) as file:
        header = read_header(file) if header is None else header
        chosen = still_format_override or still_format(header)
        for index, pixels in enumerate(iter_display_frames(file, header)):
            yield RenderedStill(index=index, mime=still.MIME_TYPES[chosen], data=still.render(pixels, chosen))


def render_cine_mp4(src: Source, dst: LocalPath, header: Dataset | None = None) -> VideoInfo:
    """Write the cine at ``src`` as an H.264 MP4 at ``dst``, at the cine's own frame rate."""
    with open_source(src) as file:
        header = read_header(file) if header is None else header
        return encode_mp4(iter_display_frames(file, header), dst, frame_rate(header))


def thumbnail(src: Source, max_side: int = THUMBNAIL_SIDE) -> bytes | None:
    """JPEG of the first frame fit inside max_side × max_side; None for objects without an image.

    Raises UnsupportedPixelData when there is an image that cannot be decoded or displayed.
    """
    with open_source(src) as file:
        header = read_header(file)
        if not has_image(header):
            return None
        pixels = first_display_frame(file, header)
    return still.encode_jpeg(still.fit_within(still.to_image(pixels), max_side), quality=still.THUMBNAIL_QUALITY)


__all__ = [
    "RenderedStill",
    "first_display_frame",
    "frame_rate",
    "is_cine",
    "iter_display_frames",
    "render_cine_mp4",
    "render_stills",
    "still_format",
    "thumbnail",
]
