"""Clean Pixel Data for ultrasound: blank everything outside the data regions, one frame at a time.

Frames are decoded one by one from the file (pydicom's ``iter_pixels``), blanked, and written natively
(Explicit VR Little Endian), so a cine of hundreds of megabytes needs a few frames of memory, not the cine.
Blanked means a stored value of 0: black for RGB and MONOCHROME2, white for MONOCHROME1, the first palette
entry for PALETTE COLOR. Whatever it looks like, no text survives there.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from pydicom.dataset import Dataset

from chalicelib.domain.anonymization.assessment import Region
from chalicelib.domain.anonymization.errors import NotDicom
from chalicelib.domain.anonymization.part10 import Part10Writer

if TYPE_CHECKING:
    import numpy as np

_ENCAPSULATION_TAGS: Final = (0x7FE00001, 0x7FE00002, 0x7FE00003)  # extended offset table and lengths


@dataclass(frozen=True)
class FrameLayout:
    """The native layout the cleaned frames are written in."""

    rows: int
    columns: int
    samples: int
    bytes_per_sample: int
    signed: bool
    frames: int

    @property
    def frame_bytes(self) -> int:
        """Bytes in one native frame."""
        return self.rows * self.columns * self.samples * self.bytes_per_sample

    @property
    def dtype(self) -> str:
        """The numpy dtype of a native little endian sample."""
        return f"<{'i' if self.signed else 'u'}{self.bytes_per_sample}"


def describe_native_pixels(header: Dataset) -> FrameLayout:
    """Rewrite the Image Pixel attributes of ``header`` for native output and return the frame layout.

    Colour comes out of the decoder as RGB, interleaved: YBR data is converted on decoding.
    """
    layout = FrameLayout(
        rows=int(header.Rows),
        columns=int(header.Columns),
        samples=int(header.SamplesPerPixel),
        bytes_per_sample=1 if int(header.BitsAllocated) == 8 else 2,
        signed=int(header.get("PixelRepresentation") or 0) == 1,
        frames=int(header.get("NumberOfFrames") or 1),
    )
    if layout.samples == 3:
        header.PhotometricInterpretation = "RGB"
        header.PlanarConfiguration = 0
    header.BitsAllocated = layout.bytes_per_sample * 8
    for tag in _ENCAPSULATION_TAGS:
        header.pop(tag, None)
    return layout


def write_cleaned_frames(
    writer: Part10Writer, pixel_source: BinaryIO | Dataset, layout: FrameLayout, keep: tuple[Region, ...]
) -> None:
    """Write the Pixel Data element: every frame of ``pixel_source`` with pixels outside ``keep`` zeroed."""
    import numpy as np

    outside: Any = np.ones((layout.rows, layout.columns, 1), dtype=bool)
    for region in keep:
        outside[region.min_y : region.max_y + 1, region.min_x : region.max_x + 1] = False
    if layout.samples == 1:
        outside = outside[..., 0]
    length = layout.frame_bytes * layout.frames
    vr = b"OB" if layout.bytes_per_sample == 1 else b"OW"
    writer.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, vr, 0, length + length % 2))
    written = 0
    for frame in _frames(pixel_source):
        if written == layout.frames or frame.shape[:2] != (layout.rows, layout.columns):
            raise NotDicom("the pixel data does not match the image's rows, columns and frames")
        if not frame.flags.writeable:
            frame = frame.copy()
        # A broadcast mask writes in place; boolean indexing would build index arrays 5x the frame's size.
        np.copyto(frame, 0, where=outside)
        native = np.ascontiguousarray(frame, dtype=layout.dtype)
        if native.nbytes != layout.frame_bytes:
            raise NotDicom("the pixel data does not match the image's samples per pixel")
        writer.write(native.data.cast("B"))
        written += 1
    if written != layout.frames:
        raise NotDicom("the pixel data has fewer frames than the header says")
    if length % 2:
        writer.write(b"\0")


def _frames(pixel_source: BinaryIO | Dataset) -> Iterator[np.ndarray[Any, Any]]:
    from pydicom.pixels.utils import iter_pixels

    frames = iter_pixels(pixel_source)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except Exception as err:  # decoders raise anything from ValueError to their own RuntimeErrors
            raise NotDicom("the pixel data could not be decoded") from err
        yield frame
