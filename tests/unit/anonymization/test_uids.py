"""Replacement UIDs: consistent within a share, unrelated across shares, always valid."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.anonymization.uids import UidMap
from tests.unit.anonymization.builders import KEY, OTHER_KEY, SOP_UID, STUDY_UID

VALID_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
uids = st.from_regex(r"[1-9][0-9]{0,5}(\.(0|[1-9][0-9]{0,8})){1,12}", fullmatch=True)


@given(uids)
def test_the_same_uid_maps_to_the_same_replacement_within_a_share(uid: str) -> None:
    assert UidMap(KEY)(uid) == UidMap(KEY)(uid) == UidMap(KEY)(uid + "\0")


@given(uids)
def test_replacements_are_valid_2_25_uids(uid: str) -> None:
    replacement = UidMap(KEY)(uid)
    assert len(replacement) <= 64
    assert VALID_UID.fullmatch(replacement)
    assert replacement.startswith("2.25.")
    number = int(replacement[5:])
    assert number < 2**128
    assert (number >> 76) & 0xF == 8  # an RFC 9562 version 8 UUID
    assert (number >> 62) & 0x3 == 0b10  # with the RFC variant


@given(uids, uids)
def test_different_uids_get_different_replacements(first: str, second: str) -> None:
    assert (UidMap(KEY)(first) == UidMap(KEY)(second)) == (first == second)


def test_another_share_key_gives_unrelated_replacements() -> None:
    assert UidMap(KEY)(STUDY_UID) != UidMap(OTHER_KEY)(STUDY_UID)
    assert UidMap(KEY)(SOP_UID) != UidMap(OTHER_KEY)(SOP_UID)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        UidMap(b"short")
