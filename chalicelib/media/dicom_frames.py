"""Reading a DICOM object's header and decoding its frames one at a time.

The pixel data is never loaded whole: pydicom 3's ``iter_pixels`` reads and decodes one frame per
step from the file, for native and encapsulated transfer syntaxes (JPEG Baseline/Extended/Lossless,
JPEG-LS, JPEG 2000 and RLE through the installed pylibjpeg plugins and Pillow).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from chalicelib.media.errors import UnsupportedPixelData
from chalicelib.media.sources import Source, open_source

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from pydicom.dataset import Dataset, FileDataset

# What pydicom raises when the pixel data cannot be decoded: unknown transfer syntax, no plugin,
# corrupt or truncated fragments, frame sizes that do not match the header.
_DECODE_ERRORS = (NotImplementedError, RuntimeError, ValueError, AttributeError, KeyError, EOFError, OSError)


#: Explicit VRs the file meta information (group 0002) is written with.
_META_VRS = {b"UL", b"OB", b"UI", b"SH", b"AE", b"UN"}


def read_part10(file: BinaryIO, *, stop_before_pixels: bool = False) -> FileDataset:
    """``dcmread`` of a seekable Part 10 stream, also one without its 128-byte preamble and ``DICM``
    whose file meta information (group 0002) opens it.

    That is what pydicom 3 writes for an in-memory ``Dataset``, and so what ``dicomweb-client`` sends;
    Orthanc and dcm4chee store it too. Anything else without ``DICM`` is still refused
    (``InvalidDicomError``): forcing any stream would make noise look like an image.
    """
    from pydicom import dcmread

    start = file.tell()
    head = file.read(132)
    file.seek(start)
    headless = head[128:132] != b"DICM" and head[:2] == b"\x02\x00" and head[4:6] in _META_VRS
    return dcmread(file, stop_before_pixels=stop_before_pixels, force=headless)


def read_header(src: Source) -> Dataset:
    """Read everything but the pixel data (cheap even for a 1 GB cine)."""
    from pydicom.errors import InvalidDicomError

    with open_source(src) as file:
        try:
            return read_part10(file, stop_before_pixels=True)
        except (InvalidDicomError, EOFError, ValueError, KeyError, OSError) as err:
            raise UnsupportedPixelData("not a readable DICOM file") from err


def has_image(header: Dataset) -> bool:
    """True when the object describes an image (SR, KOS, PR and other non-image objects do not)."""
    return all(keyword in header for keyword in ("Rows", "Columns", "BitsAllocated"))


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
            if _is_deflated(header):
                # The whole dataset is zlib-compressed, so pydicom cannot seek to single frames;
                # deflated images are rare and small (the syntax is meant for documents).
                yield from iter_pixels(read_part10(file), indices=indices)
            else:
                yield from iter_pixels(file, indices=indices)
        except _DECODE_ERRORS as err:
            raise UnsupportedPixelData("the pixel data cannot be decoded") from err


def _is_deflated(header: Dataset) -> bool:
    file_meta = getattr(header, "file_meta", None)
    transfer_syntax = file_meta.get("TransferSyntaxUID", None) if file_meta is not None else None
    return bool(transfer_syntax is not None and transfer_syntax.is_deflated)
