"""Defects found on real files, each shown on a file that has it (the big endian palette ultrasound is in
``test_compressed_out``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.domain.anonymization import ReasonCode, anonymize_file
from tests.unit.anonymization.builders import KEY, SOP_UID, STUDY_UID, ct_slice, read, real_file, us_cine, write


def test_a_region_that_does_not_fit_the_image_is_no_evidence_of_where_the_scan_is(tmp_path: Path) -> None:
    source = real_file("examples_ybr_color.dcm")  # 320 x 240, its region reaches x = 595, y = 414
    original = read(source)
    assert (original.Columns, original.Rows) == (320, 240)
    assert original.SequenceOfUltrasoundRegions[0].RegionLocationMaxX1 > original.Columns
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert ReasonCode.US_REGIONS_CLEANED not in {reason.code for reason in report.reasons}
    assert not report.anonymizable
    assert [reason.code for reason in report.reasons] == [ReasonCode.NO_USABLE_US_REGIONS]


@pytest.mark.parametrize(("max_x", "cleaned"), [(59, True), (60, True), (61, False)])
def test_a_region_may_end_one_pixel_past_the_image_and_no_further(tmp_path: Path, max_x: int, cleaned: bool) -> None:
    source = write(us_cine(columns=60, regions=((10, 5, max_x, 34),)), tmp_path / "us.dcm")
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert (report.anonymizable, report.pixels_cleaned) == (cleaned, cleaned)


def test_one_region_out_of_bounds_discredits_the_others(tmp_path: Path) -> None:
    source = write(us_cine(regions=((10, 5, 49, 34), (0, 0, 200, 10))), tmp_path / "us.dcm")
    assert not anonymize_file(source, tmp_path / "out.dcm", key=KEY).anonymizable


@pytest.mark.parametrize("name", ["UN_sequence.dcm", "priv_SQ.dcm"])
def test_an_instance_without_a_study_instance_uid_is_refused(tmp_path: Path, name: str) -> None:
    source = real_file(name)  # its UIDs are in the file meta only
    assert "StudyInstanceUID" not in read(source)
    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert [reason.code for reason in report.reasons] == [ReasonCode.MISSING_STUDY_INSTANCE_UID]
    assert not (tmp_path / "out.dcm").exists()


def test_uids_only_in_the_file_meta_or_missing_are_given_consistently(tmp_path: Path) -> None:
    copies = []
    for number in (1, 2):
        source = write(ct_slice(sop_uid=f"{SOP_UID}.{number}"), tmp_path / f"{number}.dcm")
        only_in_meta = read(source)  # the SOP Instance UID in the file meta only, the Series Instance UID nowhere
        del only_in_meta.SOPInstanceUID, only_in_meta.SeriesInstanceUID
        only_in_meta.save_as(source)
        assert read(source).file_meta.MediaStorageSOPInstanceUID == f"{SOP_UID}.{number}"
        assert anonymize_file(source, tmp_path / f"{number}.out.dcm", key=KEY).anonymizable
        copies.append(read(tmp_path / f"{number}.out.dcm"))
    first, second = copies
    for copy in copies:
        assert copy.SOPInstanceUID == copy.file_meta.MediaStorageSOPInstanceUID
        assert copy.SOPClassUID == copy.file_meta.MediaStorageSOPClassUID
        assert copy.StudyInstanceUID != STUDY_UID  # replaced, like every UID
        assert copy.SeriesInstanceUID.startswith("2.25.")
    assert first.SOPInstanceUID != second.SOPInstanceUID
    assert first.SeriesInstanceUID == second.SeriesInstanceUID  # one study without series: one new series
    assert first.StudyInstanceUID == second.StudyInstanceUID
