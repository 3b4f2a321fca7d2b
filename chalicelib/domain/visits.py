"""Visits: a clinician and a patient chat and exchange files during a video or chat visit.

A visit belongs to one clinic. The patient reaches it through one link whose token carries 256
random bits and is stored only as its SHA-256 (``link_hash``; ``domain.links`` makes both). Every
message has a number ``seq``, allocated from the visit's counter, that orders the chat and pages it.

Life: a visit is open until a clinician closes it, at most ``VISIT_OPEN_DAYS``. Closing starts the
retention period (a setting, ``DEFAULT_RETENTION_DAYS`` unless changed): until it ends both sides may
read and download, nobody may post; then every row expires (a DynamoDB TTL attribute) and its files
with it. Rows can outlive their expiry (TTL deletes late, moto never), so every read checks it here.
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.deliveries import Delivery
from chalicelib.domain.errors import Conflict, Gone, InvalidInput, TooLarge, UnsupportedMediaType
from chalicelib.media.attachment_types import (
    DECLARED_ALIASES,
    MAX_ATTACHMENT_BYTES,
    Family,
    classify_declared,
)

#: A visit nobody closes ends this long after it started (then its retention runs as if closed).
VISIT_OPEN_DAYS = 30
DEFAULT_RETENTION_DAYS = 30
#: The longest retention a deployment may set: open + retention stays inside the bucket's backstop.
MAX_RETENTION_DAYS = 60
MAX_TEXT_LENGTH = 4000
MAX_FILENAME_LENGTH = 255
#: An attachment whose file has not arrived this long after it was announced never will.
UPLOAD_WINDOW = timedelta(minutes=30)
#: An upload form is used at once (the page posts the file right after announcing it) …
UPLOAD_FORM_START = timedelta(seconds=60)
#: … and may need as long as a weak mobile uplink (256 kbit/s) takes to send the declared size.
SLOW_UPLINK_BYTES_PER_SECOND = 32 * 1024
_CLINICIAN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,63}$")


class VisitStatus(StrEnum):
    """Whether the chat still takes messages."""

    OPEN = "open"
    """Both sides may post."""
    CLOSED = "closed"
    """Read-only until the retention period ends."""


class Role(StrEnum):
    """Which side of the visit someone is on."""

    CLINICIAN = "clinician"
    PATIENT = "patient"


@dataclass(frozen=True)
class Visit:
    """One visit of a clinic."""

    visit_id: str
    clinic_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    link_hash: str
    deliveries: tuple[Delivery, ...] = ()
    status: VisitStatus = VisitStatus.OPEN
    closed_at: datetime | None = None
    closed_by: str | None = None
    link_nonce: str = ""
    """The random half of the link token (``links.link_token``); empty for visits made before it was kept."""
    language: str = "sv"
    clinician_read_seq: int = 0
    """The highest message number the clinic's chat page has loaded: patient messages after it are unread."""
    #: How many times the stored visit has been written: a save carries the version it read, and fails
    #: when another write came between (the clinician closing it while its link is being delivered).
    version: int = 0

    def ensure_readable(self, now: datetime) -> None:
        """Raise Gone once the visit's retention has ended (its row may linger; its files are gone)."""
        if now >= self.expires_at:
            raise Gone("The visit has ended and its messages and files are deleted")

    def ensure_open(self, now: datetime) -> None:
        """Raise unless the visit still takes messages."""
        self.ensure_readable(now)
        if self.status is VisitStatus.CLOSED:
            raise Conflict("The visit is closed; nothing more can be sent")

    def took_upload(self, arrived_at: datetime) -> bool:
        """Whether a file that reached the chat bucket at ``arrived_at`` belongs to the visit.

        An upload form handed out before the close still works after it, but the closing clinician has
        been reminded of the kept files by then: a file arriving later must not join them.
        """
        return self.closed_at is None or arrived_at < self.closed_at

    def close(self, clinician: str, now: datetime, retention_days: int) -> Visit:
        """The visit closed by ``clinician`` at ``now``; closing a closed visit changes nothing."""
        self.ensure_readable(now)
        if self.status is VisitStatus.CLOSED:
            return self
        return replace(
            self,
            status=VisitStatus.CLOSED,
            closed_at=now,
            closed_by=clinician,
            expires_at=now + timedelta(days=retention_days),
        )


class AttachmentStatus(StrEnum):
    """Where a file sent in the chat stands."""

    PENDING = "pending"
    """Announced; the file is on its way or being checked."""
    READY = "ready"
    """Checked and cleaned; it can be shown and downloaded."""
    REJECTED = "rejected"
    """Refused (``reason`` says why) and deleted."""


class RejectReason(StrEnum):
    """Why a file was refused; each has a sentence for the sender."""

    AUDIO = "audio"
    TYPE = "type"
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    UNREADABLE = "unreadable"
    NOT_RECEIVED = "not_received"
    AFTER_CLOSE = "after_close"

    @property
    def text(self) -> str:
        """The reason as the sender reads it (the pages translate by code)."""
        return _REASONS[self]


_REASONS = {
    RejectReason.AUDIO: "audio files cannot be sent",
    RejectReason.TYPE: "this type of file cannot be sent (pictures, videos, PDF and office documents can)",
    RejectReason.TOO_LARGE: f"the file is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB",
    RejectReason.EMPTY: "the file is empty",
    RejectReason.UNREADABLE: "the file is damaged or not what its type says",
    RejectReason.NOT_RECEIVED: "the file never arrived",
    RejectReason.AFTER_CLOSE: "the file arrived after the visit was closed",
}


@dataclass(frozen=True)
class Attachment:
    """A file sent in the chat: what the sender declared, then what the check found."""

    attachment_id: str
    filename: str
    declared_type: str
    declared_size: int
    status: AttachmentStatus = AttachmentStatus.PENDING
    reason: RejectReason | None = None
    mime: str | None = None
    family: Family | None = None
    size: int | None = None
    has_preview: bool = False
    saved_at: datetime | None = None
    saved_by: str | None = None

    def settled(self, sent_at: datetime, now: datetime) -> Attachment:
        """The attachment as shown at ``now``: a file that never arrived counts as rejected."""
        if self.status is AttachmentStatus.PENDING and now >= sent_at + UPLOAD_WINDOW:
            return replace(self, status=AttachmentStatus.REJECTED, reason=RejectReason.NOT_RECEIVED)
        return self

    def ready(self, mime: str, family: Family, size: int, *, has_preview: bool) -> Attachment:
        """The attachment checked and kept."""
        return replace(
            self, status=AttachmentStatus.READY, reason=None, mime=mime, family=family, size=size,
            has_preview=has_preview,
        )  # fmt: skip

    def rejected(self, reason: RejectReason) -> Attachment:
        """The attachment refused for ``reason``."""
        return replace(self, status=AttachmentStatus.REJECTED, reason=reason)

    def saved(self, clinician: str, now: datetime) -> Attachment:
        """Marked as saved into the medical record (the first time counts)."""
        if self.status is not AttachmentStatus.READY:
            raise Conflict("Only a file that was checked and kept can be marked saved")
        return self if self.saved_at is not None else replace(self, saved_at=now, saved_by=clinician)

    @property
    def inline(self) -> bool:
        """Shown in the browser (pictures, videos) rather than downloaded (documents)."""
        return self.family in ("image", "video")


@dataclass(frozen=True)
class Message:
    """One chat message: a text or a file, from one side of the visit."""

    visit_id: str
    clinic_id: str
    seq: int
    sender: Role
    sent_at: datetime
    expires_at: datetime
    clinician: str | None = None
    text: str | None = None
    attachment: Attachment | None = None


# ------------------------------------------------------------------------------------------- ids, keys


def new_visit_id() -> str:
    """A fresh opaque visit id."""
    return f"vi_{secrets.token_hex(10)}"


def new_attachment_id() -> str:
    """A fresh opaque attachment id."""
    return f"at_{secrets.token_hex(10)}"


def upload_form_lifetime(size: int) -> timedelta:
    """How long the upload form of a file of ``size`` bytes works: no longer than sending it needs.

    A form outlives anything the visit does (closing cannot recall it), so it is kept short: a minute to
    start, plus the declared size over a weak mobile uplink, since S3 does not document whether it
    checks the policy's expiry when the POST starts or when the file has arrived (10 MiB: 6 min 20 s).
    """
    return UPLOAD_FORM_START + timedelta(seconds=math.ceil(size / SLOW_UPLINK_BYTES_PER_SECOND))


def visit_expiry(created_at: datetime, retention_days: int) -> datetime:
    """When an open visit's rows expire if nobody closes it."""
    return created_at + timedelta(days=VISIT_OPEN_DAYS + retention_days)


def attachment_prefix(clinic_id: str, visit_id: str, attachment_id: str) -> str:
    """Where everything of one attachment lives in the chat bucket."""
    return f"attachments/{clinic_id}/{visit_id}/{attachment_id}/"


def upload_key(clinic_id: str, visit_id: str, attachment_id: str) -> str:
    """Where the sender's browser posts the file; only the attachment worker reads it."""
    return attachment_prefix(clinic_id, visit_id, attachment_id) + "upload"


def file_key(clinic_id: str, visit_id: str, attachment_id: str) -> str:
    """The checked (and, for pictures, cleaned) file that downloads serve."""
    return attachment_prefix(clinic_id, visit_id, attachment_id) + "file"


def preview_key(clinic_id: str, visit_id: str, attachment_id: str) -> str:
    """The JPEG thumbnail of a picture or poster frame of a video."""
    return attachment_prefix(clinic_id, visit_id, attachment_id) + "preview.jpg"


_UPLOAD_KEY = re.compile(r"^attachments/(cl_[0-9a-f]+)/(vi_[0-9a-f]+)/(at_[0-9a-f]+)/upload$")


@dataclass(frozen=True)
class AttachmentRef:
    """Which attachment an uploaded object belongs to."""

    clinic_id: str
    visit_id: str
    attachment_id: str


def parse_upload_key(object_key: str) -> AttachmentRef | None:
    """The attachment behind an upload key; None for any other key (our own outputs among them)."""
    match = _UPLOAD_KEY.match(object_key)
    return AttachmentRef(*match.groups()) if match else None


# ------------------------------------------------------------------------------------------- input rules


def clinician_id(raw: str | None) -> str:
    """The clinician acting, as the clinic's own systems name them (an HSA id, a user name…)."""
    if raw is None or not _CLINICIAN.match(raw):
        raise InvalidInput(
            "Name the clinician in the X-Clinician header: 1-64 letters, digits or . _ : @ + - "
            "(the clinic's own staff id)"
        )
    return raw


def message_text(raw: object) -> str:
    """A message's text, kept exactly as written (it is escaped wherever it is shown)."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("'text' must be a non-empty string")
    if len(raw) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"'text' must be at most {MAX_TEXT_LENGTH} characters")
    return raw


def attachment_filename(raw: object) -> str:
    """The file's own name, without any folder and without control characters."""
    if not isinstance(raw, str):
        raise InvalidInput("'filename' must be a string")
    name = re.split(r"[/\\]", raw)[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C").strip()
    if not name or name in {".", ".."}:
        raise InvalidInput("'filename' must name the file")
    if len(name) > MAX_FILENAME_LENGTH:
        raise InvalidInput(f"'filename' must be at most {MAX_FILENAME_LENGTH} characters")
    return name


def declared_size(raw: object) -> int:
    """The size the sender declares; over the limit is refused before anything is uploaded."""
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise InvalidInput("'size' must be a whole number of bytes")
    if raw < 1:
        raise InvalidInput("'size' must be at least 1 byte: empty files cannot be sent")
    if raw > MAX_ATTACHMENT_BYTES:
        raise TooLarge(f"Files over {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB cannot be sent")
    return raw


def declared_type(raw: object) -> str:
    """The declared Content-Type, on the allow-list, in the spelling S3 will store."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("'content_type' must be a MIME type such as image/jpeg")
    mime = raw.split(";", 1)[0].strip().lower()
    if mime.startswith("audio/"):
        raise UnsupportedMediaType(RejectReason.AUDIO.text)
    if classify_declared(mime) is None:
        raise UnsupportedMediaType(RejectReason.TYPE.text)
    return DECLARED_ALIASES.get(mime, mime)
