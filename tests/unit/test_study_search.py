from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.studies import (
    MAX_PATTERN,
    DateRange,
    Study,
    StudyQuery,
    fold,
    literal_prefix,
    name_keys,
    parse_date_range,
    wildcard_match,
)

STUDY = Study(
    clinic_id="cl_1",
    study_instance_uid="1.2.3",
    patient_name="Lindqvist^Astrid",
    patient_id="PID-778812",
    patient_birth_date="19121212",
    study_date="20261120",
    study_time="101500",
    accession_number="ACC-1001",
    study_description="",
    modalities=("US",),
    number_of_series=1,
    number_of_instances=2,
    patient_telephone_numbers=(),
    patient_emails=(),
    updated_at=datetime(2026, 11, 20, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [("LINDQVIST^ASTRID", True), ("lindq*", True), ("*astrid", True), ("L?NDQVIST*", True), ("astrid*", False),
     ("Lindqvist", False), ("*", True)],
)  # fmt: skip
def test_patient_name_wildcards_are_case_insensitive(pattern: str, matches: bool) -> None:
    assert wildcard_match(pattern, STUDY.patient_name) is matches


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        (StudyQuery(text="astrid"), True),
        (StudyQuery(text="LIND ast"), True),
        (StudyQuery(text="pid-778812"), True),
        (StudyQuery(text="acc-1001"), True),
        (StudyQuery(text="strid"), False),
        (StudyQuery(study_date=DateRange("20261101", "20261130")), True),
        (StudyQuery(study_date=DateRange(None, "20261119")), False),
        (StudyQuery(modality="us"), True),
        (StudyQuery(modality="CT"), False),
        (StudyQuery(patient_id="PID-778812", accession_number="ACC-1001"), True),
        (StudyQuery(patient_id="PID-7"), False),
    ],
)
def test_query_matching(query: StudyQuery, matches: bool) -> None:
    assert query.matches(STUDY) is matches


def test_a_study_without_a_date_is_outside_every_date_range() -> None:
    assert not StudyQuery(study_date=DateRange(None, None)).matches(replace(STUDY, study_date=""))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("20261120", DateRange("20261120", "20261120")), ("20261101-20261130", DateRange("20261101", "20261130")),
     ("-20261130", DateRange(None, "20261130")), ("20261101-", DateRange("20261101", None))],
)  # fmt: skip
def test_date_ranges(value: str, expected: DateRange) -> None:
    assert parse_date_range(value) == expected


@pytest.mark.parametrize("value", ["2026-11-20", "20261320", "-", "202611", "20261101-2026"])
def test_bad_dates_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        parse_date_range(value)


def test_name_keys_and_prefixes() -> None:
    assert name_keys("Lindqvist^Astrid") == ("LINDQVIST ASTRID", "ASTRID LINDQVIST")
    assert name_keys("") == (None, None)
    assert literal_prefix("lind*") == "LIND"
    assert literal_prefix("*strid") == ""


def _reference(pattern: str, value: str) -> bool:
    """The backtracking matcher wildcard_match replaced: right, but exponential in the number of stars."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in fold(pattern))
    return re.fullmatch(regex, fold(value), flags=re.DOTALL) is not None


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab*? ^", max_size=10), st.text(alphabet="ab ^", max_size=12))
def test_wildcards_match_as_the_regular_expression_did(pattern: str, value: str) -> None:
    assert wildcard_match(pattern, value) is _reference(pattern, value)


def test_wildcard_matching_does_not_backtrack() -> None:
    name, pattern = "A" * MAX_PATTERN, "*A" * 20 + "*B"  # the worst case of a backtracking matcher
    started = time.perf_counter()
    assert wildcard_match(pattern, name) is False
    assert time.perf_counter() - started < 0.05  # the regular expression took minutes
