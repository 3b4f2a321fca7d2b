"""A structured report read as a tree (text, codes, numbers with units, nested headings) and written as a PDF."""

from __future__ import annotations

import zlib
from pathlib import Path

from chalicelib.media.dicom_file import read_header
from chalicelib.media.structured_report import (
    MAX_DEPTH,
    ContentItem,
    is_structured_report,
    read_report,
    report_pdf,
)
from tests import dicom_files

STUDY = "1.2.826.0.1.3680043.8.498.77"


def _sr(tmp_path: Path) -> Path:
    path = tmp_path / "sr.dcm"
    path.write_bytes(dicom_files.structured_report(study_uid=STUDY))
    return path


def test_a_report_reads_as_headings_and_values(tmp_path: Path) -> None:
    report = read_report(_sr(tmp_path))
    assert report.title == "Diagnostic imaging report"
    findings, conclusion = report.items
    assert (findings.value_type, findings.name) == ("CONTAINER", "Findings")
    text, code, group = findings.children
    assert (text.name, text.value) == ("Finding", "Liver of normal size & shape <ok>.")
    assert (code.value_type, code.value) == ("CODE", "Normal")
    assert group == ContentItem("Measurement Group", "CONTAINER", "", (ContentItem("Length", "NUM", "42.5 mm"),))
    assert (conclusion.name, conclusion.value) == ("Conclusion", "No follow-up.")


def test_only_reports_are_reports(tmp_path: Path) -> None:
    assert is_structured_report(read_header(_sr(tmp_path)))
    picture = tmp_path / "picture.dcm"
    picture.write_bytes(dicom_files.instance(study_uid=STUDY))
    assert not is_structured_report(read_header(picture))


def test_a_report_nested_past_any_real_template_is_cut_not_recursed_into(tmp_path: Path) -> None:
    deep = tmp_path / "deep.dcm"
    deep.write_bytes(dicom_files.nested_sequences(MAX_DEPTH + 40, study_uid=STUDY))
    depth, items = 0, read_report(deep).items
    while items:
        depth, items = depth + 1, items[0].children
    assert depth == MAX_DEPTH


def test_the_pdf_holds_the_report_in_its_words(tmp_path: Path) -> None:
    pdf = report_pdf(read_report(_sr(tmp_path)), "Kliniken Väst", "Rapporten ur originalfilen")
    assert pdf.startswith(b"%PDF-")
    text = b"".join(pdf_streams(pdf))
    for words in (b"Findings", b"42.5 mm", b"Normal", b"No follow-up.", "Kliniken Väst".encode("latin-1")):
        assert words in text


def pdf_streams(pdf: bytes) -> list[bytes]:
    """The page content streams of a PDF, inflated (fpdf2 compresses them)."""
    found = []
    for part in pdf.split(b"stream\n")[1:]:
        body = part.split(b"\nendstream")[0]
        try:
            found.append(zlib.decompress(body))
        except zlib.error:
            found.append(body)
    return found
