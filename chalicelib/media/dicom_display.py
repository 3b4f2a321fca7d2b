"""Stored DICOM pixel values → 8-bit display pixels a browser can show.

The steps follow the DICOM grayscale and colour pipelines (PS3.4 N.2) using pydicom's own helpers:

* MONOCHROME1/2: Modality LUT or Rescale Slope/Intercept (``apply_modality_lut``), then the first
  VOI LUT or the first Window Center/Width (``apply_voi`` / ``apply_windowing``), then a linear
  scale of the VOI output range to 0-255; MONOCHROME1 is inverted so that it shows as intended.
  Without a usable VOI, 8-bit-or-less unsigned data without a rescale is shown as stored, and anything
  else is windowed on the 0.5-99.5 percentile of the FIRST frame, kept for every frame so that a
  cine does not flicker.
* PALETTE COLOR: ``apply_color_lut``; 16-bit entries are scaled to 8 bits, alpha is dropped.
* RGB (and YBR, which decoding already turned into RGB): values above 8 bits are shifted down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.media.errors import UnsupportedPixelData

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from pydicom.dataset import Dataset

DisplayKind = Literal["grayscale", "palette", "rgb"]
VoiMethod = Literal["lut", "window", "stored_range", "percentile"]

# Photometric interpretations whose decoded frames are RGB (see dicom_frames.iter_decoded_frames).
_RGB_AFTER_DECODING = frozenset({"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT"})
_WINDOW_FUNCTIONS = frozenset({"LINEAR", "LINEAR_EXACT", "SIGMOID"})
_AUTO_WINDOW_PERCENTILES = (0.5, 99.5)


def display_kind(header: Dataset) -> DisplayKind:
    """How the image's samples become colours; raises UnsupportedPixelData for anything else."""
    interpretation = str(header.get("PhotometricInterpretation", "")).strip().upper()
    samples = int(header.get("SamplesPerPixel", 1) or 1)
    if samples == 1 and interpretation in ("MONOCHROME1", "MONOCHROME2"):
        return "grayscale"
    if samples == 1 and interpretation == "PALETTE COLOR":
        return "palette"
    if samples == 3 and interpretation in _RGB_AFTER_DECODING:
        return "rgb"
    raise UnsupportedPixelData(f"photometric interpretation {interpretation!r} is not supported")


@dataclass(frozen=True)
class DisplayMapping:
    """How the frames of one image become 8-bit pixels; build it with ``for_image``.

    ``low``/``high`` is the value range (after the modality and VOI steps) that maps to 0-255.
    ``shift`` is how many bits colour samples are shifted down to reach 8 bits.
    """

    header: Dataset
    kind: DisplayKind
    voi: VoiMethod | None
    low: float
    high: float
    invert: bool
    shift: int

    @classmethod
    def for_image(cls, header: Dataset, first_frame: NDArray[Any]) -> DisplayMapping:
        """Decide the mapping from the header and, when the header has no window, the first frame."""
        kind = display_kind(header)
        if kind == "rgb":
            return cls(header, kind, None, 0.0, 255.0, False, _color_shift(header, first_frame))
        if kind == "palette":
            return cls(header, kind, None, 0.0, 255.0, False, _palette_shift(header))
        voi = _voi_method(header)
        low, high = _voi_range(header, voi, first_frame)
        invert = str(header.PhotometricInterpretation).strip().upper() == "MONOCHROME1"
        return cls(header, kind, voi, low, high, invert, 0)

    def apply(self, frame: NDArray[Any]) -> NDArray[np.uint8]:
        """Map one decoded frame to (rows, columns) or (rows, columns, 3) uint8."""
        import numpy as np
        from pydicom.pixels.processing import apply_color_lut

        if self.kind == "rgb":
            return _shift_to_uint8(frame, self.shift)
        if self.kind == "palette":
            return _shift_to_uint8(apply_color_lut(frame, self.header)[..., :3], self.shift)
        values = _voi_output(self.header, self.voi, frame)
        scaled = (values.astype(np.float64) - self.low) * (255.0 / (self.high - self.low))
        pixels = np.rint(np.clip(scaled, 0.0, 255.0)).astype(np.uint8)
        return np.subtract(255, pixels, dtype=np.uint8) if self.invert else pixels


def _voi_method(header: Dataset) -> VoiMethod:
    sequence = header.get("VOILUTSequence")
    if sequence and sequence[0].get("LUTDescriptor") is not None and sequence[0].get("LUTData") is not None:
        return "lut"
    if _first_window(header) is not None:
        return "window"
    rescaled = "ModalityLUTSequence" in header or (
        float(header.get("RescaleSlope", 1) or 1) != 1.0 or float(header.get("RescaleIntercept", 0) or 0) != 0.0
    )
    if int(header.get("BitsStored", 16) or 16) <= 8 and int(header.get("PixelRepresentation", 0) or 0) == 0:
        return "percentile" if rescaled else "stored_range"
    return "percentile"


def _first_window(header: Dataset) -> tuple[float, float] | None:
    """The first Window Center/Width pair when it is usable by pydicom's windowing."""
    center, width = _first_value(header.get("WindowCenter")), _first_value(header.get("WindowWidth"))
    function = str(header.get("VOILUTFunction", "LINEAR") or "LINEAR").strip().upper()
    if center is None or width is None or function not in _WINDOW_FUNCTIONS:
        return None
    # LINEAR needs a width of at least 1 (PS3.3 C.11.2.1.2.1), the other functions a positive one.
    if width < 1 if function == "LINEAR" else width <= 0:
        return None
    return center, width


def _first_value(value: Any) -> float | None:
    if value is None or value == "":
        return None
    first = value if isinstance(value, str | bytes | int | float) else next(iter(value), None)
    try:
        return float(first) if first is not None else None
    except (TypeError, ValueError):
        return None


def _voi_output(header: Dataset, voi: VoiMethod | None, frame: NDArray[Any]) -> NDArray[Any]:
    import numpy as np
    from pydicom.pixels.processing import apply_modality_lut, apply_voi, apply_windowing

    values = apply_modality_lut(frame, header)
    if voi == "lut":
        # A VOI LUT is indexed by integers; a rescale gives floats holding whole numbers.
        return apply_voi(np.rint(values).astype(np.int64) if values.dtype.kind == "f" else values, header, index=0)
    if voi == "window":
        return apply_windowing(values, header, index=0)
    return values


def _voi_range(header: Dataset, voi: VoiMethod, first_frame: NDArray[Any]) -> tuple[float, float]:
    """The value range the VOI step can output, found by asking pydicom's own functions."""
    import numpy as np
    from pydicom.pixels.processing import apply_voi, apply_windowing

    if voi == "lut":
        descriptor = header.VOILUTSequence[0].LUTDescriptor
        entries, first_mapped = int(descriptor[0]) or 2**16, int(descriptor[1])
        lut = apply_voi(np.arange(first_mapped, first_mapped + entries, dtype=np.int64), header, index=0)
        return _non_empty_range(float(lut.min()), float(lut.max()))
    if voi == "window":
        window = _first_window(header)
        assert window is not None  # _voi_method chose "window" because there is one
        center, width = window
        # Far outside the window every VOI function reaches its output limits (a sigmoid to within
        # e^-400 of them), and those limits depend on Bits Stored and the rescale, as pydicom knows.
        probe = np.array([center - 100 * width - 1, center + 100 * width + 1], dtype=np.float64)
        limits = apply_windowing(probe, header, index=0)
        return _non_empty_range(float(limits.min()), float(limits.max()))
    if voi == "stored_range":
        return 0.0, float(2 ** int(header.get("BitsStored", 8) or 8) - 1)
    return _percentile_range(header, first_frame)


def _percentile_range(header: Dataset, first_frame: NDArray[Any]) -> tuple[float, float]:
    import numpy as np
    from pydicom.pixels.processing import apply_modality_lut

    values = apply_modality_lut(first_frame, header).astype(np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(values, _AUTO_WINDOW_PERCENTILES))
    if high <= low:  # mostly uniform image with a few outliers: use the full range
        low, high = float(values.min()), float(values.max())
    return _non_empty_range(low, high)


def _non_empty_range(low: float, high: float) -> tuple[float, float]:
    # A flat image has no contrast to show; any non-zero span avoids dividing by zero.
    return (low, high) if high > low else (low, low + 1.0)


def _color_shift(header: Dataset, first_frame: NDArray[Any]) -> int:
    bits = int(header.get("BitsStored", 0) or 0) or first_frame.dtype.itemsize * 8
    return max(bits - 8, 0)


def _palette_shift(header: Dataset) -> int:
    """8 when the palette's entries use 16 bits, 0 when they hold 8-bit values (also if stored in 16)."""
    import numpy as np
    from pydicom.pixels.processing import apply_color_lut

    descriptor = header.RedPaletteColorLookupTableDescriptor
    entries, first_mapped = int(descriptor[0]) or 2**16, int(descriptor[1])
    try:
        palette = apply_color_lut(np.arange(first_mapped, first_mapped + entries, dtype=np.int64), header)
    except (ValueError, AttributeError, KeyError) as err:
        raise UnsupportedPixelData("the palette colour lookup table is unusable") from err
    return 8 if int(palette.max()) > 255 else 0


def _shift_to_uint8(samples: NDArray[Any], shift: int) -> NDArray[np.uint8]:
    import numpy as np

    if shift:
        samples = np.right_shift(samples, shift)
    clipped: NDArray[np.uint8] = np.clip(samples, 0, 255).astype(np.uint8)
    return clipped
