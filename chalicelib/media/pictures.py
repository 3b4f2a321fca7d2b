"""Opening chat pictures with Pillow, safely: allowed formats only, bounded size, HEIC on demand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from chalicelib.media.errors import CodecUnavailable, UnreadableMedia
from chalicelib.media.sources import Source, open_source

if TYPE_CHECKING:
    from PIL import Image

# Only these decoders ever see chat uploads (Pillow would otherwise try every format it knows).
# A multi-picture JPEG (cameras, some phones) opens through "JPEG" and reports format "MPO".
PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
HEIF_FORMAT = "HEIF"

# Largest picture decoded (width × height): 120 MP takes a 108 MP phone photo, and at 3 bytes a
# pixel (plus a rotated copy) still fits a worker's memory. Pillow's own bomb guard is 179 MP.
MAX_PIXELS = 120_000_000


@contextmanager
def open_picture(src: Source) -> Iterator[Image.Image]:
    """Open a JPEG, PNG, GIF, WebP or HEIC/HEIF picture; anything else raises UnreadableMedia.

    HEIC/HEIF needs pillow-heif, imported only when such a file arrives (CodecUnavailable without it).
    """
    from PIL import Image, UnidentifiedImageError

    with open_source(src) as file:
        try:
            image = Image.open(file, formats=PILLOW_FORMATS)
        except UnidentifiedImageError:
            file.seek(0)
            if file.read(12)[4:8] != b"ftyp":
                raise UnreadableMedia("not a supported picture") from None
            _enable_heif()
            file.seek(0)
            try:
                image = Image.open(file, formats=(HEIF_FORMAT,))
            except (UnidentifiedImageError, ValueError, OSError) as err:
                raise UnreadableMedia("not a readable HEIC/HEIF picture") from err
        except (Image.DecompressionBombError, ValueError, OSError, SyntaxError) as err:
            raise UnreadableMedia("not a readable picture") from err
        with image:
            if image.width * image.height > MAX_PIXELS:
                raise UnreadableMedia("picture too large to process")
            # Pixels are decoded lazily, inside the caller's block: a truncated or corrupt file fails
            # there. Callers encode into memory, so an OSError here is never about their output.
            try:
                yield image
            except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as err:
                raise UnreadableMedia("not a readable picture") from err


def _enable_heif() -> None:
    try:
        import pillow_heif
    except ImportError as err:
        raise CodecUnavailable("HEIC/HEIF pictures need pillow-heif") from err
    pillow_heif.register_heif_opener()
