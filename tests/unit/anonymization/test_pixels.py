"""Burned-in text: ultrasound pixels outside the data regions are blanked, frame by frame; others refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from chalicelib.domain.anonymization import PATIENT_SHARE_OPTIONS, Option, Options, ReasonCode, anonymize_file
from tests.unit.anonymization.builders import KEY, cine_pixels, read, us_cine, write


def test_pixels_outside_the_regions_are_zero_in_every_frame_and_untouched_inside(tmp_path: Path) -> None:
    regions = ((10, 5, 29, 24), (35, 8, 55, 30))
    source = write(us_cine(frames=4, regions=regions), tmp_path / "us.dcm")
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert (report.anonymizable, report.pixels_cleaned) == (True, True)
    assert ReasonCode.US_REGIONS_CLEANED in {reason.code for reason in report.reasons}

    out = read(tmp_path / "out.dcm")
    pixels = out.pixel_array
    original = cine_pixels(4, 40, 60)
    inside = np.zeros((40, 60), dtype=bool)
    for min_x, min_y, max_x, max_y in regions:
        inside[min_y : max_y + 1, min_x : max_x + 1] = True
    assert pixels.shape == original.shape
    assert (pixels[:, ~inside] == 0).all()
    assert (pixels[:, inside] == original[:, inside]).all()
    assert (original[:, ~inside] != 0).all()  # so the zeros above are the cleaning's doing


def test_cleaned_pixels_are_recorded(tmp_path: Path) -> None:
    source = write(us_cine(), tmp_path / "us.dcm")
    anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    out = read(tmp_path / "out.dcm")
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.BurnedInAnnotation == "NO"
    assert "113101" in [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    assert (out.Rows, out.Columns, out.NumberOfFrames, out.SamplesPerPixel) == (40, 60, 3, 3)


def test_the_header_saying_no_burned_in_text_passes_pixels_through(tmp_path: Path) -> None:
    report = anonymize_file(write(us_cine(burned_in="NO"), tmp_path / "us.dcm"), tmp_path / "out.dcm", key=KEY)
    assert (report.anonymizable, report.pixels_cleaned) == (True, False)
    assert (read(tmp_path / "out.dcm").pixel_array == cine_pixels(3, 40, 60)).all()


@pytest.mark.parametrize(
    ("regions", "burned_in"),
    [
        ((), "YES"),
        (((70, 50, 90, 60),), "YES"),  # wholly outside the image
        ((), None),  # ultrasound without a Burned In Annotation is assumed to have text
    ],
)
def test_ultrasound_that_cannot_be_cleaned_is_refused_and_not_written(
    tmp_path: Path, regions: tuple[tuple[int, int, int, int], ...], burned_in: str | None
) -> None:
    source = write(us_cine(regions=regions, burned_in=burned_in), tmp_path / "us.dcm")
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert not report.anonymizable
    assert [reason.code for reason in report.reasons] == [ReasonCode.NO_USABLE_US_REGIONS]
    assert not (tmp_path / "out.dcm").exists()


def test_cleaning_needs_the_clean_pixel_data_option(tmp_path: Path) -> None:
    options = Options(PATIENT_SHARE_OPTIONS.selected - {Option.CLEAN_PIXEL_DATA})
    report = anonymize_file(write(us_cine(), tmp_path / "us.dcm"), tmp_path / "out.dcm", key=KEY, options=options)
    assert [reason.code for reason in report.reasons] == [ReasonCode.CLEAN_PIXEL_DATA_NOT_SELECTED]


def test_a_deflated_ultrasound_is_cleaned_too(tmp_path: Path) -> None:
    source = write(us_cine(), tmp_path / "us.dcm", DeflatedExplicitVRLittleEndian)
    assert anonymize_file(source, tmp_path / "out.dcm", key=KEY).pixels_cleaned
    pixels = read(tmp_path / "out.dcm").pixel_array
    assert (pixels[:, :5] == 0).all()  # above the region
    assert (pixels[:, 5:35, 10:50] == cine_pixels(3, 40, 60)[:, 5:35, 10:50]).all()
