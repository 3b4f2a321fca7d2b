"""The commonest edits done on the encoded bytes of an element, without decoding it.

Emptying a value, replacing UIDs and shifting dates touch ASCII values only, so they can work on the
bytes read from the file: no conversion to Python values, no validation, and the writer copies the result
as it is. That is most of the work on a typical header, at a fraction of the cost. Anything unusual
(sequences, non-ASCII bytes, a date we cannot read) returns None and takes the general path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from pydicom.dataelem import RawDataElement

from chalicelib.domain.anonymization.dates import shift_da, shift_dt
from chalicelib.domain.anonymization.rules import Action

_NOT_RAW_EDITABLE_VRS: Final = frozenset({"SQ", "UN"})


def edit_raw(
    element: RawDataElement,
    action: Action,
    vr: str | None,
    replace_uid: Callable[[str], str],
    date_offset: int | None,
) -> RawDataElement | None:
    """``element`` with ``action`` applied to its bytes; None when this edit needs the decoded value.

    ``vr`` is the dictionary VR of the element's tag.
    """
    if element.value is None or vr is None or vr in _NOT_RAW_EDITABLE_VRS or element.VR in _NOT_RAW_EDITABLE_VRS:
        return None
    if action is Action.EMPTY:
        return element._replace(length=0, value=b"")
    try:
        values = element.value.decode("ascii").rstrip("\0 ").split("\\")
    except UnicodeDecodeError:
        return None
    if action in (Action.REPLACE_UID, Action.REPLACE_UNREGISTERED_UID) and vr == "UI":
        edited = [replace_uid(value) if value.strip() else "" for value in values]
        return _with_value(element, "\\".join(edited).encode("ascii"), b"\0")
    if action is Action.SHIFT_DATES and date_offset is not None and vr in ("DA", "DT") and any(values):
        shift = shift_da if vr == "DA" else shift_dt
        shifted = [shift(value, date_offset) for value in values]
        if any(value is None for value in shifted):
            return None
        return _with_value(element, "\\".join(value or "" for value in shifted).encode("ascii"), b" ")
    return None


def _with_value(element: RawDataElement, value: bytes, padding: bytes) -> RawDataElement:
    if len(value) % 2:
        value += padding
    return element._replace(length=len(value), value=value)
