"""The options of the Basic Application Level Confidentiality Profile (PS3.15 E.3) and the set we share with.

Each option carries its code from CID 7050 "De-identification Method" (coding scheme DCM), which is what
goes into De-identification Method Code Sequence (0012,0064) of every instance we write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from chalicelib.domain.errors import InvalidInput

BASIC_PROFILE_CODE: Final = ("113100", "Basic Application Confidentiality Profile")


class Option(StrEnum):
    """An option of the profile; the value is the column name in ``data/basic_profile.csv``."""

    CLEAN_PIXEL_DATA = "clean_pixel_data"
    CLEAN_RECOGNIZABLE_VISUAL_FEATURES = "clean_recognizable_visual_features"
    CLEAN_GRAPHICS = "clean_graphics"
    CLEAN_STRUCTURED_CONTENT = "clean_structured_content"
    CLEAN_DESCRIPTORS = "clean_descriptors"
    RETAIN_LONGITUDINAL_FULL_DATES = "retain_longitudinal_full_dates"
    RETAIN_LONGITUDINAL_MODIFIED_DATES = "retain_longitudinal_modified_dates"
    RETAIN_PATIENT_CHARACTERISTICS = "retain_patient_characteristics"
    RETAIN_DEVICE_IDENTITY = "retain_device_identity"
    RETAIN_UIDS = "retain_uids"
    RETAIN_SAFE_PRIVATE = "retain_safe_private"
    RETAIN_INSTITUTION_IDENTITY = "retain_institution_identity"

    @property
    def code(self) -> tuple[str, str]:
        """(code value, code meaning) in CID 7050, coding scheme designator DCM."""
        return _CODES[self]


_CODES: Final[dict[Option, tuple[str, str]]] = {
    Option.CLEAN_PIXEL_DATA: ("113101", "Clean Pixel Data Option"),
    Option.CLEAN_RECOGNIZABLE_VISUAL_FEATURES: ("113102", "Clean Recognizable Visual Features Option"),
    Option.CLEAN_GRAPHICS: ("113103", "Clean Graphics Option"),
    Option.CLEAN_STRUCTURED_CONTENT: ("113104", "Clean Structured Content Option"),
    Option.CLEAN_DESCRIPTORS: ("113105", "Clean Descriptors Option"),
    Option.RETAIN_LONGITUDINAL_FULL_DATES: (
        "113106",
        "Retain Longitudinal Temporal Information Full Dates Option",
    ),
    Option.RETAIN_LONGITUDINAL_MODIFIED_DATES: (
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    ),
    Option.RETAIN_PATIENT_CHARACTERISTICS: ("113108", "Retain Patient Characteristics Option"),
    Option.RETAIN_DEVICE_IDENTITY: ("113109", "Retain Device Identity Option"),
    Option.RETAIN_UIDS: ("113110", "Retain UIDs Option"),
    Option.RETAIN_SAFE_PRIVATE: ("113111", "Retain Safe Private Option"),
    Option.RETAIN_INSTITUTION_IDENTITY: ("113112", "Retain Institution Identity Option"),
}

# Options whose cleaning we do not implement. Accepting them would put a code in the output that claims a
# cleaning we never did, so they are refused instead.
UNSUPPORTED_OPTIONS: Final = frozenset(
    {Option.CLEAN_RECOGNIZABLE_VISUAL_FEATURES, Option.CLEAN_GRAPHICS, Option.CLEAN_STRUCTURED_CONTENT}
)


@dataclass(frozen=True)
class Options:
    """A valid selection of options (hashable, so compiled profiles can be cached per selection)."""

    selected: frozenset[Option] = frozenset()

    def __post_init__(self) -> None:
        unsupported = sorted(self.selected & UNSUPPORTED_OPTIONS)
        if unsupported:
            raise InvalidInput(f"option not supported: {', '.join(unsupported)}")
        if {Option.RETAIN_LONGITUDINAL_FULL_DATES, Option.RETAIN_LONGITUDINAL_MODIFIED_DATES} <= self.selected:
            raise InvalidInput("full dates and modified dates cannot both be retained")

    @classmethod
    def of(cls, *options: Option) -> Options:
        """Options from enum members: ``Options.of(Option.RETAIN_UIDS)``."""
        return cls(frozenset(options))

    @classmethod
    def parse(cls, names: Iterable[str]) -> Options:
        """Options from their names in the standard, in any spelling: "Retain Longitudinal Temporal
        Information with Modified Dates", "retain-uids", "Clean Pixel Data Option", or a code ("113105")."""
        selected = set()
        for name in names:
            option = _BY_NAME.get(_name_key(name))
            if option is None:
                raise InvalidInput(f"unknown option: {name.strip()[:64]}")
            selected.add(option)
        return cls(frozenset(selected))

    def __contains__(self, option: object) -> bool:
        return option in self.selected

    def __iter__(self) -> Iterator[Option]:
        # Code order, so the De-identification Method Code Sequence is stable from run to run.
        return iter(sorted(self.selected, key=lambda option: option.code[0]))


def _name_key(name: str) -> str:
    # "with", "option" and "temporal information" come and go between the standard's sections and CID 7050.
    words = name.lower().replace("-", " ").replace("_", " ").split()
    return "_".join(word for word in words if word not in {"with", "option", "temporal", "information"})


_BY_NAME: Final[dict[str, Option]] = {
    key: option for option in Option for key in (_name_key(option.value), _name_key(option.code[1]), option.code[0])
}


PATIENT_SHARE_OPTIONS: Final = Options.of(
    Option.CLEAN_PIXEL_DATA,
    Option.CLEAN_DESCRIPTORS,
    Option.RETAIN_LONGITUDINAL_MODIFIED_DATES,
    Option.RETAIN_PATIENT_CHARACTERISTICS,
)
"""The options used when a clinic shares a study with its patient. Why each:

- Clean Pixel Data: ultrasound burns the patient's name into the pixels around the scan; we blank
  everything outside the Sequence of Ultrasound Regions, or refuse the instance when we cannot.
- Clean Descriptors: "CT THORAX WITH CONTRAST" tells the patient (and the doctor they show it to) what they
  are looking at. Cleaning keeps only words from a reviewed vocabulary, so free text never leaks through.
- Retain Longitudinal Temporal Information with Modified Dates: intervals stay true (cine timing, contrast
  and PET decay times, the order of studies in one share) while the real calendar dates, which narrow down
  who the patient is, do not leave the clinic. The real study date is shown from our own records.
- Retain Patient Characteristics: sex, age, size and weight are needed to read many images (paediatric
  norms, PET SUV) and do not identify the patient on their own.

Not chosen: Retain UIDs (the clinic's UIDs would link the copy back to its archive), Retain Device Identity
and Retain Institution Identity (they locate the patient), Retain Safe Private (viewers for patients do
not need vendor data), and the Full Dates variant (see above).
"""
