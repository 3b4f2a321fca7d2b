"""Ultrasound without regions: a table of known device layouts says where the text is; no row, no cleaning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import JPEG2000, ExplicitVRLittleEndian, JPEG2000Lossless

from chalicelib.domain.anonymization import CleaningMethod, ReasonCode, anonymize_file, assess
from chalicelib.domain.anonymization.layouts import layout_for, layouts
from chalicelib.media.dicom_render import first_display_frame
from tests.unit.anonymization.builders import KEY, read, real_file, us_cine, write


def blanked_area(rows: int, columns: int, name: str) -> np.ndarray:
    layout = layout_for(read(real_file(name)))
    assert layout is not None
    area = np.zeros((rows, columns), dtype=bool)
    for r in layout.blank:
        area[r.min_y : r.end_y, r.min_x : r.end_x] = True
    return area


@pytest.mark.parametrize(
    ("name", "syntax"),
    [
        ("US1_UNCR.dcm", ExplicitVRLittleEndian),
        ("US1_UNCI.dcm", ExplicitVRLittleEndian),
        ("US1_J2KR.dcm", JPEG2000Lossless),
    ],
)
def test_a_logiq_700_without_regions_comes_out_with_its_text_blanked_and_the_rest_unchanged(
    tmp_path: Path, name: str, syntax: str
) -> None:
    source = real_file(name)
    assert "SequenceOfUltrasoundRegions" not in read(source)
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert (report.anonymizable, report.pixels_cleaned, report.cleaning) == (True, True, CleaningMethod.LAYOUT_TABLE)
    assert ReasonCode.LAYOUT_TABLE_CLEANED in {reason.code for reason in report.reasons}
    assert read(tmp_path / "out.dcm").file_meta.TransferSyntaxUID == syntax

    before, after = first_display_frame(source), first_display_frame(tmp_path / "out.dcm")
    blanked = blanked_area(480, 640, name)
    assert before[blanked].max() > 200  # the institution's name is there, white on black
    assert (after[blanked] == 0).all()
    assert np.array_equal(after[~blanked], before[~blanked])  # lossless: every other pixel as it was


def test_a_lossy_logiq_700_is_blanked_and_the_rest_changes_only_by_one_more_pass(tmp_path: Path) -> None:
    source = real_file("US1_J2KI.dcm")  # JPEG 2000 irreversible, YBR_ICT
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert report.cleaning is CleaningMethod.LAYOUT_TABLE
    out = read(tmp_path / "out.dcm")
    assert out.file_meta.TransferSyntaxUID == JPEG2000
    assert out.LossyImageCompression == "01"
    assert (tmp_path / "out.dcm").stat().st_size <= 1.2 * source.stat().st_size
    before, after = first_display_frame(source), first_display_frame(tmp_path / "out.dcm")
    blanked = blanked_area(480, 640, "US1_J2KI.dcm")
    assert after[blanked].max() <= 8  # a lossy codec may ring a little at the edge of the band
    away = ~blanked
    away[: np.nonzero(blanked.any(axis=1))[0].max() + 9] = False  # 8 rows clear of the band's lower edge
    assert np.abs(after[away].astype(int) - before[away].astype(int)).mean() < 3


def test_the_same_device_at_another_image_size_stays_behind_a_password(tmp_path: Path) -> None:
    source = real_file("examples_rgb_color.dcm")  # a LOGIQ 700 image scaled to 320 x 240: no row for it
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert (report.anonymizable, report.cleaning) == (False, CleaningMethod.NONE)
    assert [reason.code for reason in report.reasons] == [ReasonCode.NO_USABLE_US_REGIONS]
    assert not (tmp_path / "out.dcm").exists()


def test_the_verdict_names_the_method(tmp_path: Path) -> None:
    assert assess(read(real_file("US1_UNCR.dcm"))).cleaning is CleaningMethod.LAYOUT_TABLE
    assert assess(read(write(us_cine(), tmp_path / "us.dcm"))).cleaning is CleaningMethod.REGIONS
    assert assess(read(write(us_cine(burned_in="NO"), tmp_path / "no.dcm"))).cleaning is CleaningMethod.NONE
    assert anonymize_file(tmp_path / "us.dcm", tmp_path / "out.dcm", key=KEY).as_json()["cleaning"] == "regions"


def test_regions_come_before_the_layout_table(tmp_path: Path) -> None:
    ds = us_cine(rows=480, columns=640, frames=1)
    ds.Manufacturer, ds.ManufacturerModelName = "G.E. Medical Systems", "LOGIQ 700"
    assert layout_for(ds) is not None
    assert assess(read(write(ds, tmp_path / "us.dcm"))).cleaning is CleaningMethod.REGIONS


def test_every_row_says_where_it_came_from() -> None:
    assert layouts()
    for layout in layouts():
        assert layout.source.startswith(("CTP, label '", "measured on ")), layout
        assert layout.blank
