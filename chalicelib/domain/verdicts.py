"""What sharing will do with an instance, known from its header when it is indexed, before anyone sends it.

The share worker de-identifies each instance it sends; what it cannot de-identify still goes out, as it
is, and the link then also asks for the patient's own password (or a one-time code). Its rule needs only
the header (``anonymization.assess``), so the study index asks it once, at ingest, and keeps the answer on
the instance: the clinic sees, before sending, which images will need the password and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from chalicelib.domain.anonymization.report import Report


class Verdict(StrEnum):
    """The anonymizer's verdict on one instance."""

    ANONYMIZED = "anonymized"
    """It goes out de-identified (its pixels cleaned where they may hold text)."""
    PASSWORD = "password"  # noqa: S105 (a verdict's name, not a secret)
    """It cannot be de-identified: it goes out as it is, and the link asks for the patient's password."""
    UNKNOWN = "unknown"
    """Not known until the share is prepared (indexed before verdicts were kept)."""


#: The reason of an UNKNOWN verdict: the instance was indexed before verdicts were kept.
NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True)
class InstanceVerdict:
    """A verdict and its reason: a code of the anonymizer's report (``ReasonCode``) or ``NOT_ASSESSED``."""

    verdict: Verdict
    reason: str


NOT_YET_KNOWN = InstanceVerdict(Verdict.UNKNOWN, NOT_ASSESSED)


def verdict_of(dataset: Dataset) -> InstanceVerdict:
    """The verdict the share worker will reach on ``dataset`` (its header is enough), asked the same way."""
    from chalicelib.domain.anonymization import assess

    return from_report(assess(dataset))


def from_report(report: Report) -> InstanceVerdict:
    """The verdict a report of the anonymizer gives: the refusal, or how it de-identifies the instance."""
    if report.anonymizable:
        return InstanceVerdict(Verdict.ANONYMIZED, report.reasons[-1].code.value)
    return InstanceVerdict(Verdict.PASSWORD, report.reasons[0].code.value)


def needs_password(verdicts: Iterable[InstanceVerdict]) -> bool | None:
    """Whether a share of these instances will ask for the patient's password: None while it is not known."""
    kinds = {v.verdict for v in verdicts}
    if Verdict.PASSWORD in kinds:
        return True
    if Verdict.UNKNOWN in kinds:
        return None
    return False
