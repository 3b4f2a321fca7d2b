"""Decoding a DICOM object's frames one at a time (the file is read by ``dicom_file``).

The pixel data is never loaded whole: pydicom 3's ``iter_pixels`` reads and decodes one frame per
step from the file, for native and encapsulated transfer syntaxes (JPEG Baseline/Extended/Lossless,
JPEG-LS, JPEG 2000 and RLE through the installed pylibjpeg plugins and Pillow).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from chalicelib.media.dicom_file import has_image, is_deflated, read_part10
from chalicelib.media.errors import UnsupportedPixelData
from chalicelib.media.sources import Source, open_source

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from pydicom.dataset import Dataset

# What pydicom raises when the pixel data cannot be decoded: unknown transfer syntax, no plugin,
# corrupt or truncated fragments, frame sizes that do not match the header.
_DECODE_ERRORS = (NotImplementedError, RuntimeError, ValueError, AttributeError, KeyError, EOFError, OSError)


def iter_decoded_frames(
    src: Source, header: Dataset, indices: Iterable[int] | None = None
) -> Iterator[NDArray[np.generic]]:
    """Yield decoded frames: (rows, columns) or (rows, columns, 3), stored values, RGB colour.

    YBR_FULL and YBR_FULL_422 are converted to RGB by pydicom (``raw=False``), JPEG 2000 YBR_RCT/ICT
    by the codec, so a three-sample frame is always RGB here. Unused high bits are masked and signed
    values sign-extended by pydicom. ``indices`` restricts decoding to those frames (0-based).
    """
    from pydicom.pixels.utils import iter_pixels

    if not has_image(header):
        raise UnsupportedPixelData("the object has no image")
    with open_source(src) as file:
        try:
            if is_deflated(header):
                # The whole dataset is zlib-compressed, so pydicom cannot seek to single frames; the header
                # was read whole (deflated images are rare and small: the syntax is meant for documents).
                yield from iter_pixels(header if "PixelData" in header else read_part10(file), indices=indices)
            else:
                yield from iter_pixels(file, indices=indices)
        except _DECODE_ERRORS as err:
            raise UnsupportedPixelData("the pixel data cannot be decoded") from err
