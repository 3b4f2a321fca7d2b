"""Encoding 8-bit display pixels as JPEG or PNG, and fitting pictures into a thumbnail box."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL import Image

StillFormat = Literal["jpeg", "png"]

JPEG_QUALITY = 90
THUMBNAIL_QUALITY = 85

MIME_TYPES: dict[StillFormat, str] = {"jpeg": "image/jpeg", "png": "image/png"}


def to_image(pixels: NDArray[np.uint8]) -> Image.Image:
    """A Pillow image ("L" or "RGB") over (rows, columns) or (rows, columns, 3) uint8 pixels."""
    from PIL import Image

    if pixels.dtype.name != "uint8" or not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
        raise ValueError("display pixels must be uint8, (rows, columns) or (rows, columns, 3)")
    # Pillow picks "L" for 2-D and "RGB" for 3-sample uint8 arrays.
    return Image.fromarray(pixels)


def render_jpeg(pixels: NDArray[np.uint8], quality: int = JPEG_QUALITY) -> bytes:
    """Progressive JPEG of display pixels.

    Colour is kept at full chroma resolution (4:4:4): thin coloured lines such as Doppler traces
    and annotations blur with the usual 4:2:0 subsampling.
    """
    return encode_jpeg(to_image(pixels), quality=quality, subsampling="4:4:4")


def render_png(pixels: NDArray[np.uint8]) -> bytes:
    """Lossless PNG of display pixels."""
    buffer = io.BytesIO()
    to_image(pixels).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def render(pixels: NDArray[np.uint8], still_format: StillFormat) -> bytes:
    """JPEG or PNG bytes of display pixels."""
    return render_png(pixels) if still_format == "png" else render_jpeg(pixels)


def encode_jpeg(image: Image.Image, quality: int = THUMBNAIL_QUALITY, subsampling: str = "4:2:0") -> bytes:
    """JPEG bytes of an "L" or "RGB" Pillow image, with no metadata."""
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": quality, "progressive": True, "optimize": True}
    if image.mode != "L":
        options["subsampling"] = subsampling
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    """A copy scaled down (never up) to fit in a max_side × max_side box, keeping the aspect ratio."""
    from PIL import Image

    fitted = image.copy()
    fitted.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return fitted


def flatten_to_rgb(image: Image.Image) -> Image.Image:
    """An "L" or "RGB" image for JPEG: transparency is composited onto white, other modes converted."""
    from PIL import Image

    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return _wide_gray_to_l(image)
    return image.convert("RGB")


def _wide_gray_to_l(image: Image.Image) -> Image.Image:
    import numpy as np
    from PIL import Image

    values = np.asarray(image, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return Image.fromarray(np.rint(scaled).astype(np.uint8))
