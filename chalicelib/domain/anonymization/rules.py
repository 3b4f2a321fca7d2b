"""Compile Table E.1-1 and a selection of options into one action per tag.

Compiling happens once per selection of options (cached); applying a rule is then one dict lookup per
element. How a row becomes an action:

1. The actions of the selected options on the row are looked at first ("a requirement for an Option
   overrides any requirement for the underlying Profile"). K wins over C when two options disagree: the
   caller asked to retain. A C is only taken when we can clean that kind of value:
   - Modified Dates on a DA or DT value: shifted by the per-patient offset; on a TM value: kept, since a
     whole-day shift leaves the time of day unchanged.
   - Clean Descriptors on a text value: only words of a reviewed vocabulary are kept.
   Any other C (device AE titles, patient state, sequences, …) falls back to the Basic Profile action,
   which always protects at least as much.
2. Otherwise the Basic Profile action applies; combined codes are resolved by ``attribute_types``.
3. A C that fails on a value (a date we cannot parse, a description with no known word) falls back to the
   Basic Profile action for that element.

Attributes not in the table are kept (the standard's default), with these additions of ours, each because
the table cannot know what sits there:

- Sequences are kept and the rules applied to every item, at any depth (PS3.15 E.1.1 "K").
- Other dates (DA, DT) follow the date option as if listed (PS3.15 E.1.1 note 4 suggests handling dates by
  VR): shifted with Modified Dates, kept with Full Dates, emptied otherwise. A date is the most identifying
  thing a new or vendor-specific attribute can hold.
- Other UIDs are replaced unless they are DICOM-registered (``1.2.840.10008.…``): an instance UID in an
  attribute the table does not list would otherwise link the copy back to the original.
- Public tags that our data dictionary does not know are removed: we cannot review what we cannot name.
- The whole 60xx overlay group is removed with its Overlay Data: an Overlay Plane without its data is
  invalid, and Overlay Description and Overlay Label are free text.
- Group lengths (gggg,0000) are removed: they are retired and wrong once elements go.
- File Meta Information (0002,eeee) found inside a dataset is removed; the file meta is written anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from functools import cache
from typing import Final

from pydicom.datadict import get_entry

from chalicelib.domain.anonymization.attribute_types import resolve_action
from chalicelib.domain.anonymization.options import Option, Options
from chalicelib.domain.anonymization.profile_table import PRIVATE_ATTRIBUTES_TAG, ProfileRow, profile_rows


class Action(Enum):
    """What happens to one element."""

    KEEP = auto()
    RECURSE = auto()
    """Keep the sequence and apply the rules to each of its items."""
    REMOVE = auto()
    EMPTY = auto()
    DUMMY = auto()
    REPLACE_UID = auto()
    REPLACE_UNREGISTERED_UID = auto()
    """Replace UIDs outside the DICOM root (instance UIDs in attributes the table does not list)."""
    SHIFT_DATES = auto()
    CLEAN_DESCRIPTOR = auto()


@dataclass(frozen=True, slots=True)
class Rule:
    """The action for a tag, and the Basic Profile action to fall back on when a cleaning fails."""

    action: Action
    fallback: Action = Action.REMOVE


_DATE_VRS: Final = frozenset({"DA", "DT"})
_TEXT_VRS: Final = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
_BASIC: Final[dict[str, Action]] = {
    "X": Action.REMOVE,
    "Z": Action.EMPTY,
    "D": Action.DUMMY,
    "U": Action.REPLACE_UID,
    "U*": Action.RECURSE,
    "K": Action.KEEP,
}
_REMOVE: Final = Rule(Action.REMOVE)
_KEEP: Final = Rule(Action.KEEP)
_RECURSE: Final = Rule(Action.RECURSE)


class CompiledProfile:
    """The rules for one selection of options. Use :func:`compile_profile` to get one."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.retain_safe_private = False
        self._exact: dict[int, Rule] = {}
        self._curve = _REMOVE
        self._overlay: dict[int, Rule] = {}
        for row in profile_rows():
            rule = _compile_row(row, options)
            if row.tag == PRIVATE_ATTRIBUTES_TAG:
                # The only C for private attributes is Retain Safe Private: keep what the safe list names.
                self.retain_safe_private = Option.RETAIN_SAFE_PRIVATE in options
            elif row.number is not None:
                self._exact[row.number] = rule
            elif row.tag.startswith("(50XX"):
                self._curve = rule
            else:  # (60XX,eeee)
                self._overlay[int(row.tag[6:10], 16)] = rule
        self._cache: dict[int, Rule] = dict(self._exact)

    def rule_for(self, tag: int) -> Rule:
        """The rule for a public (even group) tag."""
        rule = self._cache.get(tag)
        if rule is None:
            rule = self._cache[tag] = self._unlisted_rule(tag)
        return rule

    def _unlisted_rule(self, tag: int) -> Rule:
        group, element = tag >> 16, tag & 0xFFFF
        if group & 0xFF00 == 0x5000:
            return self._curve
        if group & 0xFF00 == 0x6000:
            return self._overlay.get(element, _REMOVE)
        if element == 0 or group == 0x0002:
            return _REMOVE
        vr = dictionary_vr(tag)
        if vr is None:
            return _REMOVE
        if vr == "SQ":
            return _RECURSE
        if vr == "UI" and Option.RETAIN_UIDS not in self.options:
            return Rule(Action.REPLACE_UNREGISTERED_UID)
        if vr in _DATE_VRS and Option.RETAIN_LONGITUDINAL_FULL_DATES not in self.options:
            if Option.RETAIN_LONGITUDINAL_MODIFIED_DATES in self.options:
                return Rule(Action.SHIFT_DATES, fallback=Action.EMPTY)
            return Rule(Action.EMPTY)
        return _KEEP


def dictionary_vr(tag: int) -> str | None:
    """The VR our data dictionary gives a public tag (the first of "US or SS"), None when unknown."""
    try:
        vr: str = get_entry(tag)[0]
    except KeyError:
        return None
    return vr.split(" or ")[0]


@cache
def compile_profile(options: Options) -> CompiledProfile:
    """The compiled rules for ``options``, built once per selection."""
    return CompiledProfile(options)


def _compile_row(row: ProfileRow, options: Options) -> Rule:
    vr = dictionary_vr(row.number) if row.number is not None else None
    basic = _BASIC[resolve_action(row.basic_profile, row.tag)]
    if basic is Action.KEEP and vr == "SQ":
        basic = Action.RECURSE
    if basic is Action.DUMMY and vr == "UI":
        basic = Action.REPLACE_UID
    selected = {option: action for option, action in row.options.items() if option in options}
    if "K" in selected.values():
        return Rule(Action.RECURSE if vr == "SQ" else Action.KEEP)
    if selected.get(Option.RETAIN_LONGITUDINAL_MODIFIED_DATES) == "C":
        if vr in _DATE_VRS:
            return Rule(Action.SHIFT_DATES, fallback=basic)
        if vr == "TM":
            return _KEEP
    if selected.get(Option.CLEAN_DESCRIPTORS) == "C" and vr in _TEXT_VRS:
        return Rule(Action.CLEAN_DESCRIPTOR, fallback=basic)
    return Rule(basic, fallback=basic)
