"""Dummy values for the D action: non-empty, valid for the VR, and the same for every instance."""

from __future__ import annotations

from typing import Final

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

DUMMY_TEXT: Final = "ANONYMIZED"

_DUMMIES: Final[dict[str, object]] = {
    "AE": DUMMY_TEXT,
    "AS": "000Y",
    "CS": DUMMY_TEXT,
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "DS": "0",
    "IS": "0",
    "LO": DUMMY_TEXT,
    "LT": DUMMY_TEXT,
    "PN": DUMMY_TEXT,
    "SH": DUMMY_TEXT,
    "ST": DUMMY_TEXT,
    "UC": DUMMY_TEXT,
    "UR": "urn:x-anonymized",
    "UT": DUMMY_TEXT,
    "AT": 0,
    "FL": 0.0,
    "FD": 0.0,
    "SL": 0,
    "SS": 0,
    "SV": 0,
    "UL": 0,
    "US": 0,
    "UV": 0,
}
_BINARY: Final = b"\0\0"


def dummy_value(vr: str) -> object:
    """The dummy value for ``vr`` (UIDs are not dummies: they are replaced, see ``uids``).

    A sequence gets one empty item: "non-zero length" without carrying any of the original content.
    """
    if vr == "SQ":
        return Sequence([Dataset()])
    return _DUMMIES.get(vr.split(" or ")[0], _BINARY)
