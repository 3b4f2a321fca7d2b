"""What can go wrong with a file the media library is given.

Messages name the problem, never the file or anything inside it (file names and DICOM headers carry
patient data).
"""

from __future__ import annotations


class MediaError(Exception):
    """Base class: the file cannot be processed as asked."""


class UnreadableDicom(MediaError):
    """Not a DICOM Part 10 file pydicom can parse: no preamble, a broken header, or cut short."""


class UnsupportedPixelData(MediaError):
    """The DICOM object has pixel data this library cannot turn into a picture."""


class UnreadableMedia(MediaError):
    """An image or video that cannot be decoded: corrupt, truncated, too large or of another type."""


class CodecUnavailable(MediaError):
    """Decoding needs an optional library that is not installed (HEIC needs pillow-heif)."""
