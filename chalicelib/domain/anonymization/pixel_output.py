"""How the Pixel Data of a de-identified copy is written, and in which transfer syntax.

Without cleaning, the pixel data is copied byte for byte, never loaded; JPEG frames alone are rewritten,
without their metadata segments (``jpeg_segments``). With cleaning (burned-in text outside the kept
regions):

- native input is blanked in its stored bytes, frame by frame, and written as Explicit VR Little Endian
  (big endian words are swapped on the way);
- encapsulated input is decoded frame by frame, blanked and encoded again in its family
  (``frame_codecs``): compressed in, compressed out;
- what neither can do (a deflated file, native YBR_FULL_422) is decoded and written natively as RGB.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGTransferSyntaxes

from chalicelib.domain.anonymization.areas import Rectangle
from chalicelib.domain.anonymization.frame_codecs import (
    Codec,
    blanked_jpeg_frames,
    compression_ratio,
    encode_frames,
    output_codec,
    read_encapsulated_frames,
    record_lossy_compression,
)
from chalicelib.domain.anonymization.jpeg_segments import strip_metadata_segments
from chalicelib.domain.anonymization.part10 import Part10Writer
from chalicelib.domain.anonymization.pixels import (
    FrameLayout,
    blank_decoded_frames,
    blank_native_frames,
    drop_encapsulation_attributes,
)
from chalicelib.media.dicom_file import PixelDataElement

#: Native layouts that cannot be blanked in their bytes (two pixels share their chroma samples).
_NOT_BYTE_BLANKABLE: Final = frozenset({"YBR_FULL_422"})
_COPY_CHUNK: Final = 1 << 20


@dataclass(frozen=True)
class PixelInput:
    """The input's pixel data: the open source, where the element is, and what decodes it."""

    source: BinaryIO
    transfer_syntax: UID
    element: PixelDataElement | None
    end: int | None
    decodable: BinaryIO | Dataset
    """What pydicom decodes the frames from: the source, or for a deflated file its pixel module."""


@dataclass(frozen=True)
class PixelOutput:
    """The output's transfer syntax and how its Pixel Data element is written (nothing: None)."""

    transfer_syntax: UID
    write: Callable[[Part10Writer], None] | None


def plan_output(pixels: PixelInput, header: Dataset, rectangles: tuple[Rectangle, ...], deflated: bool) -> PixelOutput:
    """Decide how the pixel data of ``header``'s copy is written, blanking ``rectangles`` (none: no cleaning),
    and update its Image Pixel attributes to match.

    Encoded output is encoded here, into a temporary file, because its ratio goes into the header.
    """
    if not rectangles:
        if deflated or pixels.element is None:
            return PixelOutput(ExplicitVRLittleEndian if deflated else pixels.transfer_syntax, None)
        return _unchanged(pixels, header)
    header.pop("PixelData", None)  # the deflated header holds it
    layout = FrameLayout.of(header)
    interpretation = str(header.get("PhotometricInterpretation") or "").strip()
    native = pixels.element is not None and pixels.element.length is not None and not deflated
    if native and interpretation not in _NOT_BYTE_BLANKABLE:
        return _blanked_native(pixels, layout, rectangles)
    codec = output_codec(pixels.transfer_syntax, header)
    if codec is None or pixels.element is None or deflated:
        return _decoded_native(pixels, header, layout, rectangles)
    return _reencoded(pixels, header, layout, rectangles, codec)


def _unchanged(pixels: PixelInput, header: Dataset) -> PixelOutput:
    element, end = pixels.element, pixels.end
    assert element is not None and end is not None  # noqa: PT018 - the caller checked
    if pixels.transfer_syntax not in JPEGTransferSyntaxes:
        return PixelOutput(pixels.transfer_syntax, lambda writer: writer.copy_from(pixels.source, element.start, end))
    drop_encapsulation_attributes(header)  # the fragments change length
    frames = int(header.get("NumberOfFrames") or 1)

    def write(writer: Part10Writer) -> None:
        stripped = map(strip_metadata_segments, read_encapsulated_frames(pixels.source, element.value_start, frames))
        writer.write_encapsulated_pixel_data(stripped)

    return PixelOutput(pixels.transfer_syntax, write)


def _blanked_native(pixels: PixelInput, layout: FrameLayout, rectangles: tuple[Rectangle, ...]) -> PixelOutput:
    element = pixels.element
    assert element is not None
    swap = not pixels.transfer_syntax.is_little_endian

    def write(writer: Part10Writer) -> None:
        frames = blank_native_frames(pixels.source, element.value_start, layout, rectangles, swap=swap)
        writer.write_native_pixel_data(frames, layout.frame_bytes * layout.frames, words=layout.bytes_per_sample == 2)

    return PixelOutput(ExplicitVRLittleEndian, write)


def _decoded_native(
    pixels: PixelInput, header: Dataset, layout: FrameLayout, rectangles: tuple[Rectangle, ...]
) -> PixelOutput:
    if layout.samples == 3:  # the decoder gives RGB, interleaved
        header.PhotometricInterpretation = "RGB"
        header.PlanarConfiguration = 0
    header.BitsAllocated = layout.bytes_per_sample * 8
    drop_encapsulation_attributes(header)

    def write(writer: Part10Writer) -> None:
        frames = (
            frame.astype(layout.dtype, copy=False).tobytes()
            for frame in blank_decoded_frames(pixels.decodable, layout, rectangles)
        )
        writer.write_native_pixel_data(frames, layout.frame_bytes * layout.frames, words=layout.bytes_per_sample == 2)

    return PixelOutput(ExplicitVRLittleEndian, write)


def _reencoded(
    pixels: PixelInput, header: Dataset, layout: FrameLayout, rectangles: tuple[Rectangle, ...], codec: Codec
) -> PixelOutput:
    element, end = pixels.element, pixels.end
    assert element is not None and end is not None  # noqa: PT018 - the caller checked
    input_ratio = compression_ratio(layout, end - element.value_start)
    interpretation = str(header.PhotometricInterpretation).strip()
    decided: list[str]
    frames: Iterator[bytes]
    if codec is Codec.JPEG_BASELINE and pixels.transfer_syntax in JPEGTransferSyntaxes:
        encoded = read_encapsulated_frames(pixels.source, element.value_start, layout.frames)
        frames, decided = blanked_jpeg_frames(encoded, layout, rectangles, interpretation)
    else:
        decoded = blank_decoded_frames(pixels.decodable, layout, rectangles)
        frames, chosen = encode_frames(codec, decoded, header, layout, input_ratio)
        decided = [chosen]
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the writer below, or here on failure
    try:
        total = Part10Writer(spool, codec.transfer_syntax).write_encapsulated_pixel_data(frames)
    except BaseException:
        spool.close()
        raise
    header.PhotometricInterpretation = decided[0] if decided else interpretation
    if layout.samples == 3:
        header.PlanarConfiguration = 0
    drop_encapsulation_attributes(header)
    record_lossy_compression(header, codec, compression_ratio(layout, total), pixels.transfer_syntax)

    def write(writer: Part10Writer) -> None:
        with spool:
            spool.seek(0)
            while chunk := spool.read(_COPY_CHUNK):
                writer.write(chunk)

    return PixelOutput(codec.transfer_syntax, write)
