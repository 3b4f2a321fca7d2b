"""Our Table E.1-1 against the transcription of the standard kept beside the repository, and its compilation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.domain.anonymization.attribute_types import ATTRIBUTE_TYPES, resolve_action
from chalicelib.domain.anonymization.options import PATIENT_SHARE_OPTIONS, Option, Options
from chalicelib.domain.anonymization.profile_table import PRIVATE_ATTRIBUTES_TAG, profile_edition, profile_rows
from chalicelib.domain.anonymization.rules import Action, compile_profile

EDITION = "2026c"
REFERENCE = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / f"ps3.15-annex-e-attributes-{EDITION}.json"
)


@pytest.fixture(scope="module")
def reference() -> dict[str, object]:
    if not REFERENCE.is_file():
        pytest.skip(
            f"the transcription of PS3.15 Table E.1-1, edition {EDITION}, is not beside this checkout ({REFERENCE})"
        )
    document: dict[str, object] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def reference_attributes(reference: dict[str, object]) -> list[dict[str, object]]:
    attributes = reference["attributes"]
    assert isinstance(attributes, list)
    return attributes


def test_the_table_says_it_follows_the_edition_it_is_checked_against(reference: dict[str, object]) -> None:
    assert reference["edition"] == EDITION
    assert profile_edition() == EDITION


def _reference_tag(tag: str) -> str:
    # The standard writes the private row as "(gggg,eeee) where gggg is odd"; we keep the tag part.
    return PRIVATE_ATTRIBUTES_TAG if tag.upper().startswith("(GGGG,EEEE)") else tag.upper()


def test_our_table_has_every_attribute_of_the_standard_with_the_same_actions(
    reference_attributes: list[dict[str, object]],
) -> None:
    ours = {row.tag: row for row in profile_rows()}
    for attribute in reference_attributes:
        tag = _reference_tag(str(attribute["tag"]))
        assert tag in ours, f"{tag} is missing from basic_profile.csv"
        row = ours[tag]
        assert row.basic_profile == attribute["basic_profile"], tag
        assert {option.value: action for option, action in row.options.items()} == attribute.get("options", {}), tag
        assert row.in_standard_composite_iods == attribute["in_standard_composite_iods"], tag
    assert len(ours) == len(reference_attributes), "basic_profile.csv lists attributes the standard does not"


def test_every_combined_code_resolves_to_one_of_its_choices() -> None:
    for row in profile_rows():
        action = resolve_action(row.basic_profile, row.tag)
        assert action in row.basic_profile.split("/"), row.tag


def test_combined_codes_follow_the_attribute_type() -> None:
    assert resolve_action("Z/D", "(0010,0020)") == "Z"  # Patient ID: Type 2
    assert resolve_action("X/D", "(0008,0021)") == "D"  # Series Date: Type 1 in PET Series
    assert resolve_action("X/Z/D", "(0008,0080)") == "X"  # Institution Name: Type 3
    assert resolve_action("X/Z", "(0040,0555)") == "Z"  # Acquisition Context Sequence: Type 2
    assert resolve_action("X/Z/U*", "(0008,1140)") == "U*"
    assert resolve_action("X/Z/D", "(9999,0010)") == "X"  # untyped: the most protective choice


def test_the_type_table_only_types_attributes_with_combined_codes() -> None:
    combined = {row.tag for row in profile_rows() if "/" in row.basic_profile}
    assert set(ATTRIBUTE_TYPES) <= combined


def test_options_override_the_basic_profile_when_selected() -> None:
    basic = compile_profile(Options())
    share = compile_profile(PATIENT_SHARE_OPTIONS)
    uids = compile_profile(Options.of(Option.RETAIN_UIDS))
    assert basic.rule_for(0x00100040).action is Action.EMPTY  # Patient's Sex: Z
    assert share.rule_for(0x00100040).action is Action.KEEP  # Retain Patient Characteristics: K
    assert basic.rule_for(0x00080020).action is Action.EMPTY  # Study Date: Z
    assert share.rule_for(0x00080020).action is Action.SHIFT_DATES  # Modified Dates: C
    assert share.rule_for(0x00080030).action is Action.KEEP  # Study Time: a day shift keeps the time
    assert basic.rule_for(0x0008103E).action is Action.REMOVE  # Series Description: X
    assert share.rule_for(0x0008103E).action is Action.CLEAN_DESCRIPTOR  # Clean Descriptors: C
    assert share.rule_for(0x00080018).action is Action.REPLACE_UID
    assert uids.rule_for(0x00080018).action is Action.KEEP


def test_a_clean_we_cannot_do_falls_back_to_the_basic_profile() -> None:
    # Station AE Title is C under Retain Device Identity: we do not clean AE titles, so it goes (X).
    assert compile_profile(Options.of(Option.RETAIN_DEVICE_IDENTITY)).rule_for(0x00080055).action is (Action.REMOVE)
    # Patient State is C under Clean Descriptors and under Retain Patient Characteristics: cleaned as text.
    assert compile_profile(PATIENT_SHARE_OPTIONS).rule_for(0x00380500).action is Action.CLEAN_DESCRIPTOR


def test_attributes_the_table_does_not_list() -> None:
    share = compile_profile(PATIENT_SHARE_OPTIONS)
    assert share.rule_for(0x00080070).action is Action.KEEP  # Manufacturer
    assert share.rule_for(0x00081032).action is Action.RECURSE  # Procedure Code Sequence
    assert share.rule_for(0x00081150).action is Action.REPLACE_UNREGISTERED_UID  # Referenced SOP Class UID
    assert share.rule_for(0x60020022).action is Action.REMOVE  # Overlay Description goes with the overlay
    assert share.rule_for(0x50001000).action is Action.REMOVE  # any curve element
    assert share.rule_for(0x00100000).action is Action.REMOVE  # a group length
    assert share.rule_for(0x00FE0010).action is Action.REMOVE  # a public tag no dictionary knows
    assert share.rule_for(0x00140102).action is Action.SHIFT_DATES  # Secondary Review Date: dates by VR
    assert compile_profile(Options()).rule_for(0x00140102).action is Action.EMPTY
