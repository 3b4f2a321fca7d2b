"""Known ultrasound screen layouts, as reviewed data: where a device burns its text in.

Many machines write no Sequence of Ultrasound Regions, so nothing in the header says where the scan is. For
devices whose screen layout is known, ``data/us_layouts.csv`` says which rectangles hold their text (the
institution, the patient, the date); those are blanked and the rest of the image is kept as it is. Each row
says where it came from; the file's header says how rows match.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from pydicom.dataset import Dataset

from chalicelib.domain.anonymization.areas import Rectangle

_PACKAGE: Final = "chalicelib.domain.anonymization"


@dataclass(frozen=True)
class Layout:
    """One device's screen layout at one image size."""

    manufacturer: str
    model: str
    rows: int
    columns: int
    blank: tuple[Rectangle, ...]
    source: str

    def matches(self, dataset: Dataset) -> bool:
        """True when ``dataset`` comes from this device at this image size."""
        manufacturer = str(dataset.get("Manufacturer") or "").casefold()
        model = str(dataset.get("ManufacturerModelName") or "").casefold()
        return (
            self.manufacturer.casefold() in manufacturer
            and self.model.casefold() in model
            and dataset.get("Rows") == self.rows
            and dataset.get("Columns") == self.columns
        )

    @property
    def device(self) -> str:
        """Manufacturer and model, for people."""
        return f"{self.manufacturer} {self.model}"


def layout_for(dataset: Dataset) -> Layout | None:
    """The layout of the device and image size of ``dataset``, if the table knows it."""
    return next((layout for layout in layouts() if layout.matches(dataset)), None)


@cache
def layouts() -> tuple[Layout, ...]:
    """The rows of ``data/us_layouts.csv``, read once and checked for well-formedness."""
    lines = resources.files(_PACKAGE).joinpath("data", "us_layouts.csv").read_text(encoding="utf-8").splitlines()
    reader = csv.DictReader(io.StringIO("\n".join(line for line in lines if not line.startswith("#"))))
    return tuple(_layout(record) for record in reader)


def _layout(record: dict[str, str]) -> Layout:
    rows, columns = int(record["rows"]), int(record["columns"])
    rectangles = []
    for text in record["blank"].split(";"):
        x, y, width, height = (int(number) for number in text.split(","))
        if not (width > 0 and height > 0 and x >= 0 and x + width <= columns and y >= 0 and y + height <= rows):
            raise ValueError(f"us_layouts.csv: a rectangle of {record['manufacturer']} {record['model']} is outside")
        rectangles.append(Rectangle(min_y=y, end_y=y + height, min_x=x, end_x=x + width))
    if not (record["manufacturer"].strip() and record["model"].strip() and record["source"].strip()):
        raise ValueError("us_layouts.csv: every row names a manufacturer, a model and its source")
    return Layout(record["manufacturer"], record["model"], rows, columns, tuple(rectangles), record["source"])
