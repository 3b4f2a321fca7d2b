"""Clean Pixel Data for ultrasound: blank everything outside the data regions, one frame at a time.

Blanked means a stored value of 0: black for RGB and MONOCHROME2, white for MONOCHROME1, the first palette
entry for PALETTE COLOR. Whatever it looks like, no text survives there. What is blanked is a handful of
rectangles, the complement of the regions kept, computed once per instance and applied to every frame:

- native frames are blanked in their stored bytes, read and written one frame at a time: no decoding, and
  a zero is a zero in any byte order (:func:`blank_native_frames`);
- encapsulated frames are decoded one at a time, blanked and handed on for re-encoding
  (:func:`blank_decoded_frames`).

Either way a cine of hundreds of megabytes needs a few frames of memory, not the cine.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Final, cast

from pydicom.dataset import Dataset

from chalicelib.domain.anonymization.areas import Rectangle
from chalicelib.domain.anonymization.errors import NotDicom

if TYPE_CHECKING:
    import numpy as np

_ENCAPSULATION_TAGS: Final = (0x7FE00001, 0x7FE00002, 0x7FE00003)  # extended offset table and lengths


@dataclass(frozen=True)
class FrameLayout:
    """How the frames of an image are stored natively."""

    rows: int
    columns: int
    samples: int
    bytes_per_sample: int
    signed: bool
    frames: int
    planar: bool = False

    @classmethod
    def of(cls, header: Dataset) -> FrameLayout:
        """The layout ``header`` describes."""
        return cls(
            rows=int(header.Rows),
            columns=int(header.Columns),
            samples=int(header.SamplesPerPixel),
            bytes_per_sample=1 if int(header.BitsAllocated) == 8 else 2,
            signed=int(header.get("PixelRepresentation") or 0) == 1,
            frames=int(header.get("NumberOfFrames") or 1),
            planar=int(header.get("PlanarConfiguration") or 0) == 1 and int(header.SamplesPerPixel) > 1,
        )

    @property
    def frame_bytes(self) -> int:
        """Bytes in one native frame."""
        return self.rows * self.columns * self.samples * self.bytes_per_sample

    @property
    def dtype(self) -> str:
        """The numpy dtype of a native little endian sample."""
        return f"<{'i' if self.signed else 'u'}{self.bytes_per_sample}"


def blank(frame: Any, rectangles: tuple[Rectangle, ...]) -> None:
    """Zero ``rectangles`` of a decoded frame, (rows, columns) or (rows, columns, samples), in place."""
    for r in rectangles:
        frame[r.min_y : r.end_y, r.min_x : r.end_x] = 0


def blank_native_frames(
    source: BinaryIO, value_start: int, layout: FrameLayout, rectangles: tuple[Rectangle, ...], *, swap: bool
) -> Iterator[memoryview]:
    """The native frames stored from ``value_start`` in ``source``, blanked in their bytes, one by one.

    The same buffer is reused for every frame: consume each before asking for the next. ``swap`` turns
    16-bit big endian samples into little endian ones.
    """
    import numpy as np

    buffer = bytearray(layout.frame_bytes)
    view = memoryview(buffer)
    planes = layout.samples if layout.planar else 1
    per_pixel = layout.bytes_per_sample * (1 if layout.planar else layout.samples)
    pixels = np.frombuffer(buffer, dtype=np.uint8).reshape(planes, layout.rows, layout.columns, per_pixel)
    words = np.frombuffer(buffer, dtype=np.uint16) if swap and layout.bytes_per_sample == 2 else None
    reader = cast(io.BufferedIOBase, source)
    source.seek(value_start)
    for _ in range(layout.frames):
        if reader.readinto(buffer) != len(buffer):
            raise NotDicom("the pixel data has fewer frames than the header says")
        for r in rectangles:
            pixels[:, r.min_y : r.end_y, r.min_x : r.end_x] = 0
        if words is not None:
            words.byteswap(inplace=True)
        yield view


def blank_decoded_frames(
    pixel_source: BinaryIO | Dataset, layout: FrameLayout, rectangles: tuple[Rectangle, ...]
) -> Iterator[np.ndarray[Any, Any]]:
    """The frames of ``pixel_source`` decoded by pydicom one at a time (colour as RGB), blanked."""
    from pydicom.pixels.utils import iter_pixels

    frames = iter_pixels(pixel_source)
    count = 0
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except Exception as err:  # decoders raise anything from ValueError to their own RuntimeErrors
            raise NotDicom("the pixel data could not be decoded") from err
        if count == layout.frames or frame.shape[:2] != (layout.rows, layout.columns):
            raise NotDicom("the pixel data does not match the image's rows, columns and frames")
        if not frame.flags.writeable:
            frame = frame.copy()
        blank(frame, rectangles)
        count += 1
        yield frame
    if count != layout.frames:
        raise NotDicom("the pixel data has fewer frames than the header says")


def drop_encapsulation_attributes(header: Dataset) -> None:
    """Remove the Extended Offset Table and its lengths: they describe fragments we rewrite."""
    for tag in _ENCAPSULATION_TAGS:
        header.pop(tag, None)
