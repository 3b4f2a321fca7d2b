"""Date shifting for Retain Longitudinal Temporal Information with Modified Dates (PS3.15 E.3.6).

Every date of one patient moves back by the same whole number of days, derived from the share key and the
patient's original identifier: intervals and weekdays-to-weekdays spacing stay true, the calendar does not.
Times of day are left alone because a whole-day shift does not change them.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta
from typing import Final

from chalicelib.domain.anonymization.uids import check_key

# At least a year and at most ten years back: far enough that the season and year are not given away.
MIN_OFFSET_DAYS: Final = 366
MAX_OFFSET_DAYS: Final = 3652


def date_offset_days(key: bytes, patient_id: str, issuer_of_patient_id: str = "") -> int:
    """How many days this patient's dates move back under ``key``."""
    check_key(key)
    message = b"patient-share date offset\0" + patient_id.encode() + b"\0" + issuer_of_patient_id.encode()
    number = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:8], "big")
    return MIN_OFFSET_DAYS + number % (MAX_OFFSET_DAYS - MIN_OFFSET_DAYS + 1)


def shift_da(value: str, offset_days: int) -> str | None:
    """A DA value (YYYYMMDD) moved back by ``offset_days``; None when it is not a date we can read."""
    text = value.strip()
    if len(text) == 10 and text[4] == text[7] == ".":  # ACR-NEMA YYYY.MM.DD
        text = text[:4] + text[5:7] + text[8:]
    return _shift(text, offset_days)


def shift_dt(value: str, offset_days: int) -> str | None:
    """A DT value moved back by ``offset_days``, time and offset from UTC unchanged; None when unreadable.

    Values with less than a full date (YYYY, YYYYMM) cannot be shifted by days and give None.
    """
    text = value.strip()
    shifted = _shift(text[:8], offset_days)
    return None if shifted is None else shifted + text[8:]


def _shift(yyyymmdd: str, offset_days: int) -> str | None:
    if len(yyyymmdd) != 8 or not yyyymmdd.isdigit():
        return None
    try:
        moved = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])) - timedelta(days=offset_days)
    except (ValueError, OverflowError):
        return None
    return f"{moved.year:04d}{moved.month:02d}{moved.day:02d}"
