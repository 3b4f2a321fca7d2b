"""Options: named as in the standard, validated, and the one selection used for patient sharing."""

from __future__ import annotations

import pytest

from chalicelib.domain.anonymization import PATIENT_SHARE_OPTIONS, Option, Options
from chalicelib.domain.errors import InvalidInput


def test_options_parse_the_names_of_the_standard() -> None:
    parsed = Options.parse(["Retain UIDs", "retain-device-identity", "clean_descriptors"])
    assert parsed == Options.of(Option.RETAIN_UIDS, Option.RETAIN_DEVICE_IDENTITY, Option.CLEAN_DESCRIPTORS)
    assert Options.parse(["Retain Longitudinal Temporal Information with Modified Dates"]) == Options.of(
        Option.RETAIN_LONGITUDINAL_MODIFIED_DATES
    )
    assert Options.parse(["Clean Pixel Data Option", "113108"]) == Options.of(
        Option.CLEAN_PIXEL_DATA, Option.RETAIN_PATIENT_CHARACTERISTICS
    )


def test_full_and_modified_dates_exclude_each_other() -> None:
    with pytest.raises(InvalidInput, match="cannot both"):
        Options.of(Option.RETAIN_LONGITUDINAL_FULL_DATES, Option.RETAIN_LONGITUDINAL_MODIFIED_DATES)


@pytest.mark.parametrize(
    "option", [Option.CLEAN_GRAPHICS, Option.CLEAN_STRUCTURED_CONTENT, Option.CLEAN_RECOGNIZABLE_VISUAL_FEATURES]
)
def test_cleanings_we_do_not_do_are_refused(option: Option) -> None:
    with pytest.raises(InvalidInput, match="not supported"):
        Options.of(option)


def test_unknown_names_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown option"):
        Options.parse(["retain everything"])


def test_codes_are_those_of_cid_7050() -> None:
    assert {option.code[0] for option in Option} == {str(code) for code in range(113101, 113113)}
    assert Option.RETAIN_LONGITUDINAL_MODIFIED_DATES.code == (
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    )


def test_patient_sharing_uses_one_documented_selection() -> None:
    assert set(PATIENT_SHARE_OPTIONS) == {
        Option.CLEAN_PIXEL_DATA,
        Option.CLEAN_DESCRIPTORS,
        Option.RETAIN_LONGITUDINAL_MODIFIED_DATES,
        Option.RETAIN_PATIENT_CHARACTERISTICS,
    }
    assert [option.code[0] for option in PATIENT_SHARE_OPTIONS] == ["113101", "113105", "113107", "113108"]
