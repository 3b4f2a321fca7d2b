"""The study index: studies, their instances, and the files clinics upload into it.

Every record is scoped to a clinic. A study's summary is derived from its instances, so re-sending an
instance (same SOP Instance UID) changes nothing but its stored copy: ingest is idempotent.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from chalicelib.domain.dicom_header import Failure, Header
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.verdicts import NOT_YET_KNOWN, InstanceVerdict

#: Upload records are kept this long, for ``GET /studies/uploads/{id}``.
UPLOAD_RECORD_DAYS = 30
#: How many files one upload request may ask for.
MAX_FILES_PER_UPLOAD = 500


class FileStatus(StrEnum):
    """Where an uploaded file stands."""

    PENDING = "pending"
    """Upload URL handed out; the file has not been indexed yet."""
    STORED = "stored"
    """Indexed: the instance is in the study index."""
    FAILED = "failed"
    """Refused (``reason`` says why); the bytes are kept in quarantine, not in the index."""


@dataclass(frozen=True)
class Instance:
    """One stored DICOM instance of a clinic."""

    clinic_id: str
    header: Header
    object_key: str
    size: int
    stored_at: datetime
    thumbnail_key: str | None = None
    #: What sharing will do with it, decided from its header at ingest (unknown for older rows).
    verdict: InstanceVerdict = NOT_YET_KNOWN

    @property
    def sop_instance_uid(self) -> str:
        """The instance's identity within the clinic."""
        return self.header.sop_instance_uid


@dataclass(frozen=True)
class Study:
    """A study as the clinic's screens and QIDO-RS see it: the summary of its instances."""

    clinic_id: str
    study_instance_uid: str
    patient_name: str
    patient_id: str
    patient_birth_date: str
    study_date: str
    study_time: str
    accession_number: str
    study_description: str
    modalities: tuple[str, ...]
    number_of_series: int
    number_of_instances: int
    patient_telephone_numbers: tuple[str, ...]
    patient_emails: tuple[str, ...]
    updated_at: datetime
    #: The thumbnail that stands for the study in lists: its first instance's (series and instance
    #: order) that has one; None when no instance has a picture.
    cover_thumbnail_key: str | None = None
    #: How many times the summary has been written: ingest workers indexing one study side by side each
    #: write it conditionally on the version they read before reading the instances.
    version: int = 0


def instance_order(instance: Instance) -> tuple[int, str, int, str]:
    """Sort key: series number, then instance number (unnumbered last), UIDs as tie-breakers."""
    header = instance.header
    return (
        header.series_number if header.series_number is not None else 1 << 30,
        header.series_instance_uid,
        header.instance_number if header.instance_number is not None else 1 << 30,
        header.sop_instance_uid,
    )


@dataclass(frozen=True)
class Series:
    """A series of a study, with its instances in the index's order."""

    series_instance_uid: str
    modality: str
    series_number: int | None
    series_description: str
    instances: list[Instance]


def by_series(instances: list[Instance]) -> list[Series]:
    """A study's instances (in ``instance_order``) grouped by series, in the same order."""
    series: dict[str, Series] = {}
    for instance in instances:
        h = instance.header
        if h.series_instance_uid not in series:
            series[h.series_instance_uid] = Series(
                h.series_instance_uid, h.modality, h.series_number, h.series_description, []
            )
        series[h.series_instance_uid].instances.append(instance)
    return list(series.values())


def study_sort_key(study: Study) -> str:
    """Sort key for newest-first listings: study date and time, then the UID."""
    return f"{study.study_date or '00000000'}{study.study_time[:6]:0<6}#{study.study_instance_uid}"


def summarize(clinic_id: str, instances: list[Instance], now: datetime) -> Study:
    """The study summary of a non-empty list of one study's instances (the newest header wins)."""
    newest = max(instances, key=lambda i: i.stored_at).header
    return Study(
        clinic_id=clinic_id,
        study_instance_uid=newest.study_instance_uid,
        patient_name=newest.patient_name,
        patient_id=newest.patient_id,
        patient_birth_date=newest.patient_birth_date,
        study_date=newest.study_date,
        study_time=newest.study_time,
        accession_number=newest.accession_number,
        study_description=newest.study_description,
        modalities=tuple(sorted({i.header.modality for i in instances if i.header.modality})),
        number_of_series=len({i.header.series_instance_uid for i in instances}),
        number_of_instances=len(instances),
        patient_telephone_numbers=tuple(
            dict.fromkeys(p for i in instances for p in i.header.patient_telephone_numbers)
        ),
        patient_emails=tuple(dict.fromkeys(e for i in instances for e in i.header.patient_emails)),
        updated_at=now,
        cover_thumbnail_key=cover_thumbnail(instances),
    )


def cover_thumbnail(instances: list[Instance]) -> str | None:
    """The thumbnail that stands for a study: its first instance's, in series and instance order, that has one."""
    return next((i.thumbnail_key for i in sorted(instances, key=instance_order) if i.thumbnail_key), None)


@dataclass(frozen=True)
class UploadedFile:
    """One file of an upload and what became of it."""

    index: int
    object_key: str
    status: FileStatus = FileStatus.PENDING
    reason: str | None = None
    study_instance_uid: str | None = None
    sop_instance_uid: str | None = None
    sop_class_uid: str | None = None
    failure: Failure | None = None
    series_instance_uid: str | None = None


@dataclass(frozen=True)
class Upload:
    """A batch of files a clinic sends (STOW-RS request or pre-signed uploads)."""

    upload_id: str
    clinic_id: str
    created_at: datetime
    expires_at: datetime
    files: tuple[UploadedFile, ...] = field(default_factory=tuple)


def new_upload_id() -> str:
    """A fresh opaque upload id."""
    return f"up_{secrets.token_hex(10)}"


def upload_key(clinic_id: str, upload_id: str, index: int) -> str:
    """Where file ``index`` of an upload lands in the ingest bucket."""
    return f"uploads/{clinic_id}/{upload_id}/{index:05d}.dcm"


def quarantine_key(object_key: str) -> str:
    """Where a refused file is kept, out of the index, for the clinic's support."""
    return "quarantine/" + object_key.removeprefix("uploads/")


_UPLOAD_KEY = re.compile(r"^uploads/(cl_[0-9a-f]+)/(up_[0-9a-f]+)/(\d{5})\.dcm$")


@dataclass(frozen=True)
class UploadRef:
    """Which upload file an ingest bucket key belongs to."""

    clinic_id: str
    upload_id: str
    index: int


def parse_upload_key(object_key: str) -> UploadRef | None:
    """The upload file behind a key, or None for a key we did not hand out."""
    match = _UPLOAD_KEY.match(object_key)
    if match is None:
        return None
    return UploadRef(match.group(1), match.group(2), int(match.group(3)))


def thumbnail_key(clinic_id: str, sop_instance_uid: str) -> str:
    """Where an instance's thumbnail is kept."""
    return f"thumbnails/{clinic_id}/{sop_instance_uid}.jpg"


def retrieve_key(clinic_id: str, digest: str) -> str:
    """Where a WADO-RS answer too large for a Lambda response is kept (``digest`` names its content)."""
    return f"retrieve/{clinic_id}/{digest}.multipart"


# ----------------------------------------------------------------------------------------------- search


@dataclass(frozen=True)
class DateRange:
    """An inclusive DICOM date range (YYYYMMDD); either end may be open."""

    start: str | None
    end: str | None

    def contains(self, value: str) -> bool:
        """True when ``value`` (YYYYMMDD) lies inside the range; an unknown date never does."""
        if not value:
            return False
        return (self.start is None or value >= self.start) and (self.end is None or value <= self.end)


@dataclass(frozen=True)
class StudyQuery:
    """A search of one clinic's studies (QIDO-RS attributes, or the console's free text)."""

    patient_name: str | None = None
    patient_id: str | None = None
    study_date: DateRange | None = None
    accession_number: str | None = None
    modality: str | None = None
    study_instance_uid: str | None = None
    text: str | None = None
    limit: int = 100
    offset: int = 0

    def matches(self, study: Study) -> bool:
        """Whether a study satisfies every criterion of the query."""
        checks = (
            self.patient_name is None or wildcard_match(self.patient_name, study.patient_name),
            self.patient_id is None or wildcard_match(self.patient_id, study.patient_id),
            self.accession_number is None or wildcard_match(self.accession_number, study.accession_number),
            self.study_date is None or self.study_date.contains(study.study_date),
            self.modality is None or self.modality.upper() in study.modalities,
            self.study_instance_uid is None or self.study_instance_uid == study.study_instance_uid,
            self.text is None or text_match(self.text, study),
        )
        return all(checks)


MAX_LIMIT = 1000
#: The longest matching value a search takes (PS3.5 gives 64 characters to LO and to each PN group).
MAX_PATTERN = 64


def wildcard_match(pattern: str, value: str) -> bool:
    """DICOM attribute matching with ``*`` and ``?``, case-insensitive; ``^`` and spaces alike.

    No backtracking: the pieces between stars are found leftmost, one after the other, which is enough
    (a later piece can only gain from an earlier one ending sooner). The time grows with the value's
    length times the pattern's, whatever the number of stars.
    """
    pieces, text = fold(pattern).split("*"), fold(value)
    if len(pieces) == 1:
        return len(text) == len(pieces[0]) and _fits(pieces[0], text, 0)
    first, *middle, last = pieces
    end = len(text) - len(last)
    if end < len(first) or not _fits(first, text, 0) or not _fits(last, text, end):
        return False
    at = len(first)
    for piece in middle:
        found = next((i for i in range(at, end - len(piece) + 1) if _fits(piece, text, i)), None)
        if found is None:
            return False
        at = found + len(piece)
    return True


def _fits(piece: str, text: str, at: int) -> bool:
    """Whether ``piece`` (``?`` for any one character) matches ``text`` at position ``at``."""
    return all(c == "?" or c == text[at + i] for i, c in enumerate(piece))


def text_match(text: str, study: Study) -> bool:
    """The console's search: every word is the start of a name part, or is the patient id or accession."""
    name_parts = fold(study.patient_name).split()
    exact = {fold(study.patient_id), fold(study.accession_number)} - {""}
    return all(any(part.startswith(word) for part in name_parts) or word in exact for word in fold(text).split())


def name_keys(patient_name: str) -> tuple[str | None, str | None]:
    """Index keys for prefix search by family name and by given name (None when there is no name)."""
    folded = fold(patient_name)
    if not folded:
        return None, None
    family, given = _family_and_given(patient_name)
    given_first = fold(f"{given} {family}") if given else folded
    return folded, given_first


def display_name(patient_name: str) -> str:
    """A DICOM person name as a clinician reads it: ``Lindqvist^Astrid`` → ``Lindqvist, Astrid``."""
    return ", ".join(part for part in _family_and_given(patient_name) if part)


def _family_and_given(patient_name: str) -> tuple[str, str]:
    """The family and given name components of a PN value's alphabetic group."""
    components = [c.strip() for c in patient_name.split("=")[0].split("^")]
    family, given = ([*components, "", ""])[:2]
    return family, given


def display_date(dicom_date: str) -> str:
    """A DICOM date (``20261120``) as ISO 8601 (``2026-11-20``); anything else as it is."""
    return f"{dicom_date[:4]}-{dicom_date[4:6]}-{dicom_date[6:]}" if _DICOM_DATE.match(dicom_date) else dicom_date


def literal_prefix(pattern: str) -> str:
    """The folded part of a wildcard pattern before its first wildcard."""
    folded = fold(pattern)
    cut = min((i for i in (folded.find("*"), folded.find("?")) if i >= 0), default=len(folded))
    return folded[:cut]


def fold(value: str) -> str:
    """The form values are compared and indexed in: upper case, ``^``/``=`` as spaces, spaces collapsed."""
    return " ".join(value.replace("^", " ").replace("=", " ").upper().split())


_DICOM_DATE = re.compile(r"^\d{8}$")


def parse_date_range(value: str) -> DateRange:
    """Parse a QIDO date or range: ``20240101``, ``20240101-20240131``, ``-20240131``, ``20240101-``."""
    start, dash, end = value.strip().partition("-")
    for part in (start, end):
        if part and not _valid_date(part):
            raise InvalidInput("StudyDate must be YYYYMMDD or a range YYYYMMDD-YYYYMMDD")
    if not dash:
        return DateRange(start, start)
    if not start and not end:
        raise InvalidInput("StudyDate range needs at least one end")
    return DateRange(start or None, end or None)


def _valid_date(value: str) -> bool:
    if not _DICOM_DATE.match(value):
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True
