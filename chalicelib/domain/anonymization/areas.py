"""Areas of an image: the regions a header says hold the scan, and the rectangles to blank."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class Region:
    """A rectangle of image data, in pixels, bounds inclusive and inside the image."""

    min_x: int
    min_y: int
    max_x: int
    max_y: int


@dataclass(frozen=True)
class Rectangle:
    """Pixels [min_y, end_y) × [min_x, end_x) (end exclusive) to blank."""

    min_y: int
    end_y: int
    min_x: int
    end_x: int


def outside(rows: int, columns: int, keep: tuple[Region, ...]) -> tuple[Rectangle, ...]:
    """The rectangles that cover every pixel of a ``rows`` × ``columns`` image outside the regions ``keep``."""
    edges = sorted({0, rows} | {r.min_y for r in keep} | {r.max_y + 1 for r in keep})
    rectangles = []
    for min_y, end_y in pairwise(edges):
        kept = sorted((r.min_x, r.max_x + 1) for r in keep if r.min_y <= min_y and end_y <= r.max_y + 1)
        x = 0
        for start, end in kept:
            if start > x:
                rectangles.append(Rectangle(min_y, end_y, x, start))
            x = max(x, end)
        if x < columns:
            rectangles.append(Rectangle(min_y, end_y, x, columns))
    return tuple(rectangles)
