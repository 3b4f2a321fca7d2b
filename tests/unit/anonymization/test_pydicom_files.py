"""Every file pydicom ships, and those of pydicom-data (a development requirement): anonymized with no
identifying value left, refused with a reason, or a clean error.

The identifying values of each file are collected from the input first, at any depth: person names,
patient and study identifiers, birth date, institution and device identity, and every UID outside the DICOM
root. A value that also sits in an attribute the profile keeps (institution "TOSHIBA" beside manufacturer
"TOSHIBA_MEC") is left out: it may rightly stay there.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_files
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

from chalicelib.domain.anonymization import NotDicom, ReasonCode, anonymize_file
from chalicelib.domain.anonymization.dummies import DUMMY_TEXT, dummy_value
from chalicelib.domain.anonymization.profile_table import profile_rows
from tests.unit.anonymization.builders import KEY

FILES = sorted(path for path in map(Path, get_testdata_files()) if path.is_file())
IDENTIFYING = {
    "PatientID",
    "OtherPatientIDs",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "AccessionNumber",
    "StudyID",
    "StationName",
    "DeviceSerialNumber",
    "RequestedProcedureID",
    "PerformedProcedureStepID",
}
LISTED = {row.number for row in profile_rows() if row.number is not None}
DUMMIES = {DUMMY_TEXT, str(dummy_value("DA")), str(dummy_value("DT"))}


def values(element_value: object) -> list[object]:
    if isinstance(element_value, MultiValue | list):
        return list(element_value)
    return [element_value]


def elements(ds: Dataset) -> Iterator[tuple[str, object, bool]]:
    """(keyword, value, kept by the standard) for every value in ``ds``, at any depth."""
    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                yield from elements(item)
            continue
        listed = element.tag in LISTED or element.tag.is_private or element.tag.group in (0x5000, 0x6000)
        for value in values(element.value):
            yield element.keyword, value, not listed


def identifying_values(ds: Dataset) -> set[bytes]:
    found, kept = set(), set()
    for keyword, value, kept_by_standard in elements(ds):
        text = str(value).strip(" \0")
        if kept_by_standard and keyword not in IDENTIFYING and not isinstance(value, PersonName):
            kept.add(text)
        is_uid = keyword.endswith("UID") and not text.startswith("1.2.840.10008.")
        if keyword in IDENTIFYING or isinstance(value, PersonName) or is_uid:
            encoded = value.original_string if isinstance(value, PersonName) else text.encode("latin-1", "replace")
            if len(text) >= 4 and text not in DUMMIES and encoded:
                found.add((text, encoded))
    return {encoded for text, encoded in found if not any(text in kept_text for kept_text in kept)}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, object]:
    folder = tmp_path_factory.mktemp("anonymized")
    outcome: dict[Path, object] = {}
    for index, path in enumerate(FILES):
        target = folder / f"{index}.dcm"
        try:
            outcome[path] = (anonymize_file(path, target, key=KEY), target)
        except NotDicom as err:
            outcome[path] = err
    return outcome


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_each_file_is_anonymized_refused_with_a_reason_or_a_clean_error(
    path: Path, results: dict[Path, object]
) -> None:
    outcome = results[path]
    if isinstance(outcome, NotDicom):
        assert outcome.message
        return
    assert isinstance(outcome, tuple)
    report, target = outcome
    if not report.anonymizable:
        assert report.reasons
        assert all(isinstance(reason.code, ReasonCode) and reason.text for reason in report.reasons)
        assert not target.exists()
        return
    original = dcmread(path)
    secrets = identifying_values(original) | identifying_values(original.file_meta)
    written = target.read_bytes()
    assert sorted(value for value in secrets if value in written) == []
    copy = dcmread(target)
    assert copy.PatientIdentityRemoved == "YES"
    assert copy.file_meta.MediaStorageSOPInstanceUID == copy.get(
        "SOPInstanceUID", copy.file_meta.MediaStorageSOPInstanceUID
    )


def test_well_formed_images_are_anonymized_not_refused(results: dict[Path, object]) -> None:
    anonymized = {
        path.name for path, outcome in results.items() if isinstance(outcome, tuple) and outcome[0].anonymizable
    }
    assert {
        "CT_small.dcm",
        "MR_small.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_jp2klossless.dcm",
        "color3d_jpeg_baseline.dcm",
        "OBXXXX1A_rle.dcm",
        "gdcm-US-ALOKA-16_big.dcm",
    } <= (anonymized)
    assert len(anonymized) >= 90


def test_errors_are_only_for_files_that_are_not_whole_part_10_files(results: dict[Path, object]) -> None:
    errors = [path for path, outcome in results.items() if isinstance(outcome, NotDicom)]
    assert errors
    assert [path.name for path in errors if not not_a_whole_part_10_file(path)] == []


def not_a_whole_part_10_file(path: Path) -> bool:
    """No preamble and meta, no transfer syntax, encapsulated pixel data cut before its end, or native pixel
    data shorter than the image."""
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            ds = dcmread(path)
            ds.get("PixelData")
    except InvalidDicomError:
        return True
    if "TransferSyntaxUID" not in ds.file_meta:
        return True
    if any("End of file reached before delimiter" in str(warning.message) for warning in warned):
        return True
    if ds.file_meta.TransferSyntaxUID.is_compressed or "PixelData" not in ds:
        return False
    frames = int(ds.get("NumberOfFrames") or 1)
    return len(ds.PixelData) < ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8 * frames
