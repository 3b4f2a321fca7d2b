"""Compressed in, compressed out: cleaned frames are encoded again in the family of the input's syntax.

Patients download their copies on phones, and the ZIP carries them: a 6 MB JPEG cine must not come back
as 111 MB of native pixels. Which encoding a cleaned instance gets is this table (:data:`OUTPUT_CODECS`):

- Lossless stays lossless. RLE stays RLE (pydicom's encoder, through pylibjpeg-rle when installed);
  JPEG-LS stays JPEG-LS (pyjpegls); JPEG 2000 lossless, HTJ2K lossless and the JPEG Lossless processes,
  whose encoders we do not have, become JPEG 2000 lossless (pylibjpeg-openjpeg, reversible colour
  transform for colour). JPEG-LS near-lossless becomes JPEG-LS lossless: what the first compression lost
  is lost, no more is.
- JPEG lossy stays JPEG Baseline, encoded with the input's own quantization tables and chroma
  subsampling (Pillow's ``quality="keep"``): the same quality, so no more loss than one more pass at it,
  and about the size of the input. A higher quality could not restore what the first pass lost; it would
  only make the file bigger. An input whose tables cannot be kept is encoded at :data:`JPEG_QUALITY`.
- JPEG 2000 (and HTJ2K) lossy stays JPEG 2000 lossy, at the compression ratio the input had.
- Native input stays native (blanked in its bytes, see ``pixels``).

A lossy output says so, as PS3.3 C.7.6.1.1.5 requires: Lossy Image Compression "01", and this compression's
ratio and method appended to those of the compressions before it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from enum import Enum
from typing import TYPE_CHECKING, Any, BinaryIO, Final

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from chalicelib.domain.anonymization.areas import Rectangle
from chalicelib.domain.anonymization.errors import NotDicom
from chalicelib.domain.anonymization.pixels import FrameLayout

if TYPE_CHECKING:
    import numpy as np

#: The stated quality of JPEG Baseline output when the input's own tables cannot be kept.
JPEG_QUALITY: Final = 90


class Codec(Enum):
    """How cleaned frames are written, with the transfer syntax and, for lossy ones, the PS3.3 method."""

    RLE = (RLELossless, None)
    JPEG_LS_LOSSLESS = (JPEGLSLossless, None)
    JPEG_2000_LOSSLESS = (JPEG2000Lossless, None)
    JPEG_2000 = (JPEG2000, "ISO_15444_1")
    JPEG_BASELINE = (JPEGBaseline8Bit, "ISO_10918_1")

    @property
    def transfer_syntax(self) -> UID:
        """The transfer syntax of the output."""
        return UID(self.value[0])

    @property
    def lossy_method(self) -> str | None:
        """The Lossy Image Compression Method (0028,2114) of the output; None when it is lossless."""
        method: str | None = self.value[1]
        return method


#: Input transfer syntax → the codec cleaned frames are written with. Native syntaxes are not listed.
OUTPUT_CODECS: Final[dict[str, Codec]] = {
    RLELossless: Codec.RLE,
    JPEGLSLossless: Codec.JPEG_LS_LOSSLESS,
    JPEGLSNearLossless: Codec.JPEG_LS_LOSSLESS,
    JPEG2000Lossless: Codec.JPEG_2000_LOSSLESS,
    HTJ2KLossless: Codec.JPEG_2000_LOSSLESS,
    HTJ2KLosslessRPCL: Codec.JPEG_2000_LOSSLESS,
    JPEGLossless: Codec.JPEG_2000_LOSSLESS,
    JPEGLosslessSV1: Codec.JPEG_2000_LOSSLESS,
    JPEG2000: Codec.JPEG_2000,
    HTJ2K: Codec.JPEG_2000,
    JPEGBaseline8Bit: Codec.JPEG_BASELINE,
    JPEGExtended12Bit: Codec.JPEG_BASELINE,
}


#: The Lossy Image Compression Method (PS3.3 C.7.6.1.1.5.1) of each lossy input transfer syntax.
INPUT_LOSSY_METHODS: Final[dict[str, str]] = {
    JPEGBaseline8Bit: "ISO_10918_1",
    JPEGExtended12Bit: "ISO_10918_1",
    JPEGLSNearLossless: "ISO_14495_1",
    JPEG2000: "ISO_15444_1",
    HTJ2K: "ISO_15444_15",
}


def output_codec(transfer_syntax: str, header: Dataset) -> Codec | None:
    """The codec for cleaned frames of an input in ``transfer_syntax``; None to write them natively.

    JPEG Baseline holds 8-bit samples only: deeper lossy JPEG becomes JPEG 2000 lossless.
    """
    codec = OUTPUT_CODECS.get(transfer_syntax)
    if codec is Codec.JPEG_BASELINE and int(header.get("BitsStored") or 8) > 8:
        return Codec.JPEG_2000_LOSSLESS
    return codec


def encode_frames(
    codec: Codec, frames: Iterator[np.ndarray[Any, Any]], header: Dataset, layout: FrameLayout, input_ratio: float
) -> tuple[Iterator[bytes], str]:
    """Encode decoded, cleaned ``frames`` with ``codec``; returns the encoded frames and their Photometric
    Interpretation. ``input_ratio`` is the input's compression ratio (JPEG 2000 lossy keeps it)."""
    from pydicom.pixels.encoders.base import get_encoder

    interpretation = str(header.PhotometricInterpretation).strip()
    options: dict[str, Any] = {}
    if layout.samples == 3:  # decoded colour is RGB
        interpretation = "RGB"
        if codec is Codec.JPEG_2000_LOSSLESS:
            interpretation, options["use_mct"] = "YBR_RCT", True
        elif codec is Codec.JPEG_2000:
            interpretation, options["use_mct"] = "YBR_ICT", True
    if codec is Codec.JPEG_2000:
        options["j2k_cr"] = [max(input_ratio, 1.0)]
    encoder = get_encoder(codec.transfer_syntax)
    if not encoder.is_available:
        raise NotDicom(f"no encoder for {codec.transfer_syntax.name} is installed")
    description: dict[str, Any] = {
        "rows": layout.rows,
        "columns": layout.columns,
        "samples_per_pixel": layout.samples,
        "number_of_frames": 1,
        "bits_allocated": layout.bytes_per_sample * 8,
        "bits_stored": int(header.get("BitsStored") or layout.bytes_per_sample * 8),
        "pixel_representation": int(layout.signed),
        "photometric_interpretation": interpretation,
        "planar_configuration": 0,
    }

    def encoded() -> Iterator[bytes]:
        for frame in frames:
            try:
                yield encoder.encode(frame, **description, **options)
            except (ValueError, RuntimeError, TypeError) as err:
                raise NotDicom("the cleaned pixel data could not be encoded again") from err

    return encoded(), interpretation


def blanked_jpeg_frames(
    frames: Iterator[bytes], layout: FrameLayout, rectangles: tuple[Rectangle, ...], interpretation: str
) -> tuple[Iterator[bytes], list[str]]:
    """JPEG frames decoded by Pillow, blanked, and encoded again with their own tables (see module doc).

    Returns the frames and, once they have all been read, the output's Photometric Interpretation in the
    returned list (the chroma subsampling of the first frame decides it).
    """
    from PIL import Image, JpegImagePlugin

    decided: list[str] = []

    def blanked() -> Iterator[bytes]:
        for frame in frames:
            try:
                image = Image.open(io.BytesIO(frame))
                image.load()
            except (OSError, ValueError) as err:
                raise NotDicom("a JPEG frame could not be decoded") from err
            if image.size != (layout.columns, layout.rows) or image.mode not in ("L", "RGB"):
                raise NotDicom("a JPEG frame does not match the image's rows, columns and samples")
            black = 0 if image.mode == "L" else (0, 0, 0)
            for r in rectangles:
                image.paste(black, (r.min_x, r.min_y, r.end_x, r.end_y))
            sampling = JpegImagePlugin.get_sampling(image)
            keep = bool(getattr(image, "quantization", None)) and sampling != -1
            out = io.BytesIO()
            if keep:
                image.save(out, "JPEG", quality="keep", subsampling="keep")
            else:
                image.save(out, "JPEG", quality=JPEG_QUALITY, subsampling=0)
                sampling = 0
            if not decided:
                decided.append(_jpeg_interpretation(image.mode, sampling, interpretation))
            yield out.getvalue()

    return blanked(), decided


def _jpeg_interpretation(mode: str, sampling: int, interpretation: str) -> str:
    if mode == "L":
        return interpretation  # MONOCHROME1 or MONOCHROME2, as stored
    return "YBR_FULL" if sampling == 0 else "YBR_FULL_422"  # Pillow writes YCbCr, 4:4:4 or subsampled


def record_lossy_compression(header: Dataset, codec: Codec, ratio: float, input_syntax: str) -> None:
    """Say that the pixels went through ``codec``'s lossy compression at ``ratio`` (PS3.3 C.7.6.1.1.5).

    The values of Ratio and Method pair up, one per lossy compression in order; an input that gave ratios
    without their methods gets the method of its own transfer syntax for them.
    """
    method = codec.lossy_method
    if method is None:
        return
    ratios = _values(header.get("LossyImageCompressionRatio"))
    methods = _values(header.get("LossyImageCompressionMethod"))
    if len(methods) < len(ratios) and input_syntax in INPUT_LOSSY_METHODS:
        methods += [INPUT_LOSSY_METHODS[input_syntax]] * (len(ratios) - len(methods))
    header.LossyImageCompression = "01"
    header.LossyImageCompressionRatio = [*ratios, f"{ratio:.2f}"[:16]]
    header.LossyImageCompressionMethod = [*methods, method]


def compression_ratio(layout: FrameLayout, compressed_bytes: int) -> float:
    """Native size over ``compressed_bytes``: the compression ratio of frames that size."""
    return layout.frame_bytes * layout.frames / max(compressed_bytes, 1)


def read_encapsulated_frames(source: BinaryIO, value_start: int, frames: int) -> Iterator[bytes]:
    """The frames of the encapsulated pixel data whose value starts at ``value_start``, one at a time."""
    from pydicom.encaps import generate_frames

    source.seek(value_start)
    try:
        yield from generate_frames(source, number_of_frames=frames)
    except (ValueError, KeyError, EOFError, OSError) as err:
        raise NotDicom("the encapsulated pixel data is malformed") from err


def _values(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, MultiValue | list | tuple):
        return [str(item) for item in value]
    return [str(value)]
