"""A DICOM Structured Report (PS3.3 C.17.3) as a tree a person can read, and that tree as a PDF.

An SR holds no picture: its Content Sequence is a tree of content items, each a concept ("Findings",
"Length") with a value of its Value Type (TEXT, CODE, NUM with its unit, DATE, …), a CONTAINER being a
heading over its children. The tree is read with the one DICOM reader (``dicom_file.read_header``: an SR
has no pixel data, so its header is all of it), then rendered by the caller as an HTML page and here as a
PDF (fpdf2, in the media image).

The values are the report's own words, patient data included: nothing of it is ever logged, and the
files made of it are shared behind the same lock as the SR itself (an SR is never anonymized).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from chalicelib.media.dicom_file import read_header
from chalicelib.media.sources import LocalPath

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

#: The SOP classes of structured reports share this root (Basic Text, Enhanced, Comprehensive, Key Object…).
_SR_CLASSES: Final = "1.2.840.10008.5.1.4.1.1.88."
#: A report nested deeper than this is cut there: real templates nest a handful of levels.
MAX_DEPTH: Final = 32


@dataclass(frozen=True)
class ContentItem:
    """One content item: its concept's name, its value as text, and the items it holds."""

    name: str
    value_type: str
    """The DICOM Value Type: CONTAINER (a heading), TEXT, CODE, NUM, DATE, TIME, DATETIME, PNAME, UIDREF, …"""
    value: str
    """The value as a person reads it ("Normal liver.", "42.5 mm", "2026-11-20"); "" for a container."""
    children: tuple[ContentItem, ...] = ()


@dataclass(frozen=True)
class StructuredReport:
    """A report's title (its root concept) and its content tree."""

    title: str
    items: tuple[ContentItem, ...]


def is_structured_report(header: Dataset) -> bool:
    """Whether a DICOM header is a structured report with content to show."""
    return str(header.get("SOPClassUID", "")).startswith(_SR_CLASSES) and "ContentSequence" in header


def read_report(source: LocalPath) -> StructuredReport:
    """The report in a Part 10 file (``UnreadableDicom`` when it is not one)."""
    header = read_header(source)
    return StructuredReport(_concept(header), _items(header, 0))


def _items(parent: Dataset, depth: int) -> tuple[ContentItem, ...]:
    if depth >= MAX_DEPTH:
        return ()
    return tuple(_item(each, depth) for each in parent.get("ContentSequence", []))


def _item(item: Dataset, depth: int) -> ContentItem:
    value_type = str(item.get("ValueType", ""))
    return ContentItem(_concept(item), value_type, _value(item, value_type), _items(item, depth + 1))


def _concept(item: Dataset) -> str:
    names = item.get("ConceptNameCodeSequence", [])
    return str(names[0].get("CodeMeaning", "")) if names else ""


def _value(item: Dataset, value_type: str) -> str:
    if value_type == "TEXT":
        return str(item.get("TextValue", ""))
    if value_type == "CODE":
        codes = item.get("ConceptCodeSequence", [])
        return str(codes[0].get("CodeMeaning", "")) if codes else ""
    if value_type == "NUM":
        return _measurement(item)
    if value_type == "DATE":
        return _iso_date(str(item.get("Date", "")))
    if value_type == "TIME":
        return _iso_time(str(item.get("Time", "")))
    if value_type == "DATETIME":
        text = str(item.get("DateTime", ""))
        return f"{_iso_date(text[:8])} {_iso_time(text[8:])}".strip()
    if value_type == "PNAME":
        return str(item.get("PersonName", "")).replace("^", " ").strip()
    if value_type == "UIDREF":
        return str(item.get("UID", ""))
    return ""


def _measurement(item: Dataset) -> str:
    measured: Any = item.get("MeasuredValueSequence", [])
    if not measured:
        return ""
    number = str(measured[0].get("NumericValue", "")).strip()
    units = measured[0].get("MeasurementUnitsCodeSequence", [])
    if not units:
        return number
    unit = units[0]
    # UCUM codes are the short units people read ("mm", "cm2"); "1" is UCUM's "no unit".
    symbol = str(unit.get("CodeValue", "")) if unit.get("CodingSchemeDesignator") == "UCUM" else ""
    symbol = symbol or str(unit.get("CodeMeaning", ""))
    return number if symbol in ("", "1", "{ratio}") else f"{number} {symbol}"


def _iso_date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


def _iso_time(text: str) -> str:
    return f"{text[:2]}:{text[2:4]}" if len(text) >= 4 and text[:4].isdigit() else text


# ------------------------------------------------------------------------------------------- as PDF


def report_pdf(report: StructuredReport, heading: str, subtitle: str) -> bytes:
    """The report as an A4 PDF: ``heading`` (the clinic, in the patient's words), ``subtitle``, the title,
    then each item, containers as headings and values indented under their names.

    Helvetica is one of PDF's built-in fonts: no font file to ship. It writes Latin-1 (Swedish included);
    other characters become "?".
    """
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_latin1(report.title or heading))
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.multi_cell(0, 9, _latin1(report.title or subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 5, _latin1(subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for item in report.items:
        _pdf_item(pdf, item, 0)
    return bytes(pdf.output())


def _pdf_item(pdf: Any, item: ContentItem, depth: int) -> None:
    indent = min(depth, 8) * 5
    pdf.set_x(pdf.l_margin + indent)
    width = pdf.w - pdf.r_margin - pdf.l_margin - indent
    if item.value_type == "CONTAINER":
        pdf.ln(2)
        pdf.set_font("Helvetica", style="B", size=max(10, 14 - 2 * depth))
        pdf.multi_cell(width, 7, _latin1(item.name), new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.multi_cell(width, 5, _latin1(item.name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(pdf.l_margin + indent)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(width, 5, _latin1(item.value) or "-", new_x="LMARGIN", new_y="NEXT")
    for child in item.children:
        _pdf_item(pdf, child, depth + 1)


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")
