"""Apply the compiled profile to a dataset, in place, at every depth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from chalicelib.domain.anonymization.dates import date_offset_days, shift_da, shift_dt
from chalicelib.domain.anonymization.dummies import dummy_value
from chalicelib.domain.anonymization.options import Option, Options
from chalicelib.domain.anonymization.private import remove_private
from chalicelib.domain.anonymization.quiet import pydicom_silenced
from chalicelib.domain.anonymization.raw_edits import edit_raw
from chalicelib.domain.anonymization.rules import Action, CompiledProfile, Rule, compile_profile, dictionary_vr
from chalicelib.domain.anonymization.uids import DICOM_ROOT, UidMap
from chalicelib.domain.descriptors import clean_descriptor


@dataclass(frozen=True)
class Deidentifier:
    """Everything one share needs to de-identify its instances consistently."""

    profile: CompiledProfile
    uids: UidMap
    key: bytes = field(repr=False)  # the share's secret: never in a log line

    @classmethod
    def for_share(cls, key: bytes, options: Options) -> Deidentifier:
        """A de-identifier for the share whose secret is ``key``."""
        return cls(compile_profile(options), UidMap(key), key)

    def apply(self, dataset: Dataset) -> None:
        """De-identify a top-level ``dataset`` in place (items of its sequences included)."""
        with pydicom_silenced():
            self.apply_rules(dataset, self.date_offset(dataset))

    def date_offset(self, dataset: Dataset) -> int | None:
        """Days to shift the dates of the patient of ``dataset`` (read before its Patient ID is removed)."""
        if Option.RETAIN_LONGITUDINAL_MODIFIED_DATES not in self.profile.options:
            return None
        return date_offset_days(
            self.key,
            str(dataset.get("PatientID", "") or ""),
            str(dataset.get("IssuerOfPatientID", "") or ""),
        )

    def apply_rules(self, dataset: Dataset, date_offset: int | None) -> None:
        """Apply the profile to ``dataset`` and its items, shifting dates by ``date_offset`` days."""
        private: list[BaseTag] = []
        rule_for = self.profile.rule_for
        for tag in list(dataset.keys()):
            if tag >> 16 & 1:
                private.append(tag)
                continue
            rule = rule_for(tag)
            if rule.action is Action.KEEP:
                continue
            if rule.action is Action.REMOVE:
                del dataset[tag]
                continue
            element: object = dataset.get_item(tag, keep_deferred=True)  # typed as converted; may be raw
            if isinstance(element, RawDataElement):
                replace_uid = self.uids if rule.action is Action.REPLACE_UID else self._unregistered
                edited = edit_raw(element, rule.action, dictionary_vr(tag), replace_uid, date_offset)
                if edited is not None:
                    dataset[tag] = edited
                    continue
            self._apply(dataset, dataset[tag], rule.action, rule, date_offset)
        if private:
            remove_private(dataset, private, retain_safe=self.profile.retain_safe_private)

    def _apply(
        self, dataset: Dataset, element: DataElement, action: Action, rule: Rule, date_offset: int | None
    ) -> None:
        vr = element.VR
        if action is Action.KEEP:
            return
        if action is Action.RECURSE:
            if not isinstance(element.value, Sequence):
                del dataset[element.tag]  # the dictionary says sequence but the file disagrees: unreadable
                return
            for item in element.value:
                self.apply_rules(item, date_offset)
        elif action is Action.REMOVE:
            del dataset[element.tag]
        elif action is Action.EMPTY:
            element.value = empty_value_for_VR(vr)
        elif action is Action.DUMMY:
            element.value = dummy_value(vr)
        elif action is Action.REPLACE_UID:
            element.value = _map_values(element.value, self.uids)
        elif action is Action.REPLACE_UNREGISTERED_UID:
            element.value = _map_values(element.value, self._unregistered)
        else:
            cleaned = self._clean(element.value, vr, action, date_offset)
            if cleaned is None:
                self._apply(dataset, element, rule.fallback, rule, date_offset)
            else:
                element.value = cleaned

    def _unregistered(self, uid: str) -> str:
        return uid if uid.startswith(DICOM_ROOT) else self.uids(uid)

    @staticmethod
    def _clean(value: object, vr: str, action: Action, date_offset: int | None) -> object | None:
        """The cleaned value, or None when this value cannot be cleaned (the fallback applies)."""
        values = _values(value)
        if not values:
            return value  # nothing to protect in an empty value
        if action is Action.SHIFT_DATES and date_offset is not None:
            shift = shift_da if vr == "DA" else shift_dt
            shifted = [shift(str(item), date_offset) for item in values]
            if any(item is None for item in shifted):
                return None
            return shifted if len(shifted) > 1 else shifted[0]
        if action is Action.CLEAN_DESCRIPTOR:
            cleaned = [clean_descriptor(str(item)) for item in values]
            if not any(cleaned):
                return None
            return cleaned if len(cleaned) > 1 else cleaned[0]
        return None


def _values(value: object) -> list[object]:
    if value is None or value == "":
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def _map_values(value: object, replace: Callable[[str], str]) -> object:
    values = [replace(str(item)) if str(item).strip(" \0") else "" for item in _values(value)]
    if not values:
        return value
    return values if len(values) > 1 else values[0]
