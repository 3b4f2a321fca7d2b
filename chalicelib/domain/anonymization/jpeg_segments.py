"""Remove the metadata segments of a JPEG frame, byte-wise, without touching the image.

A JPEG stream (ISO 10918-1) is a series of marker segments around entropy-coded scans. Application
segments (APP0-APP15) can hold anything a device chose to write there: EXIF with dates and serial numbers,
vendor text, even a thumbnail of the screen; comment segments (COM) are free text. None of them is needed
to decode the image, except two that say how to read the colours: the JFIF APP0 segment and Adobe's APP14
(its colour transform flag). Everything else is left as it is, byte for byte: no re-encoding, no loss.
"""

from __future__ import annotations

from typing import Final

from chalicelib.domain.anonymization.errors import NotDicom

_SOI: Final = 0xD8
_EOI: Final = 0xD9
_SOS: Final = 0xDA
_COM: Final = 0xFE
_APP0: Final = 0xE0
_APP14: Final = 0xEE
_APP15: Final = 0xEF
# Markers without a length: TEM, RST0-RST7, SOI, EOI.
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8), _SOI, _EOI})
# The application segments a decoder needs, by marker and the identifier their data starts with.
_NEEDED: Final = ((_APP0, b"JFIF\0"), (_APP14, b"Adobe"))


def is_jpeg(frame: bytes) -> bool:
    """True when ``frame`` starts like a JPEG stream (SOI)."""
    return frame[:2] == b"\xff\xd8"


def strip_metadata_segments(frame: bytes) -> bytes:
    """``frame`` without its APPn segments (but JFIF APP0 and Adobe APP14) and COM segments.

    Segments anywhere in the stream are looked at, between scans too. Raises NotDicom for a frame that is
    not a well-formed JPEG stream: we cannot tell what it hides.
    """
    if not is_jpeg(frame):
        raise NotDicom("a JPEG frame does not start with a JPEG start-of-image marker")
    kept = bytearray(frame[:2])
    position = 2
    end = len(frame)
    while position < end:
        marker_start = position
        if frame[position] != 0xFF:
            raise NotDicom(f"a JPEG frame has no marker where one should be (offset {position})")
        while position < end and frame[position] == 0xFF:  # fill bytes before a marker
            position += 1
        if position >= end:
            break
        marker = frame[position]
        position += 1
        if marker in _STANDALONE:
            kept += frame[marker_start:position]
            if marker == _EOI:
                kept += frame[position:]  # padding after the image, as written
                return bytes(kept)
            continue
        if position + 2 > end:
            raise NotDicom("a JPEG frame ends inside a marker segment")
        length = int.from_bytes(frame[position : position + 2], "big")
        segment_end = position + length
        if length < 2 or segment_end > end:
            raise NotDicom("a JPEG frame has a marker segment longer than the frame")
        data = frame[position + 2 : segment_end]
        if not _is_metadata(marker, data):
            kept += frame[marker_start:segment_end]
        position = segment_end
        if marker == _SOS:
            scan_end = _end_of_scan(frame, position)
            kept += frame[position:scan_end]
            position = scan_end
    return bytes(kept)


def _is_metadata(marker: int, data: bytes) -> bool:
    if marker == _COM:
        return True
    if _APP0 <= marker <= _APP15:
        return not any(marker == needed and data.startswith(identifier) for needed, identifier in _NEEDED)
    return False


def _end_of_scan(frame: bytes, position: int) -> int:
    """Where the entropy-coded data that starts at ``position`` ends: at the first marker that is not a
    stuffed zero (FF00) or a restart marker (RST0-RST7)."""
    while True:
        position = frame.find(b"\xff", position)
        if position < 0 or position + 1 >= len(frame):
            return len(frame)
        following = frame[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1 if following == 0xFF else 2
            continue
        return position
