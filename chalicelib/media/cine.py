"""When a multi-frame DICOM object is a moving loop (cine), and how fast it plays.

Only reads header attributes, so it works on a dataset read with ``stop_before_pixels=True``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

# Used when a cine carries no usable timing: most ultrasound loops are acquired at 25-60 frames per
# second, and 30 is what video players and most US scanners default to, so motion looks natural.
DEFAULT_CINE_FPS = 30.0

# Rates outside this range are treated as broken headers, not as real timing.
_MIN_FPS = 0.1
_MAX_FPS = 1000.0

_TIMING_KEYWORDS = ("CineRate", "RecommendedDisplayFrameRate", "FrameTime", "FrameTimeVector")


def number_of_frames(dataset: Dataset) -> int:
    """The (0028,0008) Number of Frames, 1 when absent or unreadable."""
    try:
        frames = int(dataset.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        return 1
    return max(frames, 1)


def is_cine(dataset: Dataset) -> bool:
    """True for a multi-frame object meant to be played as a loop rather than paged through.

    That is: more than one frame and either timing attributes (Cine Rate, Recommended Display Frame
    Rate, Frame Time or Frame Time Vector, as in US, XA, XRF and endoscopy video) or an ultrasound
    modality (US multi-frame objects are loops even when the scanner left the timing out). Multi-frame
    CT/MR/PET volumes carry no timing and stay a stack of stills.
    """
    if number_of_frames(dataset) <= 1:
        return False
    if any(keyword in dataset for keyword in _TIMING_KEYWORDS):
        return True
    return str(dataset.get("Modality", "")).upper() == "US"


def frame_rate(dataset: Dataset) -> float:
    """Frames per second to play a cine at.

    The first usable source wins: Cine Rate, Recommended Display Frame Rate, 1000 / Frame Time (ms),
    then 1000 / the mean of the positive Frame Time Vector increments (its first value is the 0 ms
    offset of the first frame). A value that is missing, not a number, or outside 0.1-1000 fps is
    skipped; with no usable source the rate is ``DEFAULT_CINE_FPS``.
    """
    candidates = (
        _number(dataset.get("CineRate")),
        _number(dataset.get("RecommendedDisplayFrameRate")),
        _per_second(_number(dataset.get("FrameTime"))),
        _per_second(_mean_increment(dataset.get("FrameTimeVector"))),
    )
    for fps in candidates:
        if fps is not None and _MIN_FPS <= fps <= _MAX_FPS:
            return fps
    return DEFAULT_CINE_FPS


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _per_second(milliseconds: float | None) -> float | None:
    if milliseconds is None or milliseconds <= 0:
        return None
    return 1000.0 / milliseconds


def _mean_increment(vector: Any) -> float | None:
    if vector is None:
        return None
    # pydicom gives a MultiValue for several values and a bare number for one.
    values = [vector] if isinstance(vector, str | bytes | int | float) else list(vector)
    increments = [number for number in map(_number, values) if number is not None and number > 0]
    if not increments:
        return None
    return sum(increments) / len(increments)
