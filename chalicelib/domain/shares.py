"""Shares: a study (or chosen instances of it) sent to a patient through one secret link.

The rules a share lives by are here, with time passed in:

* a link expires at ``expires_at`` and nothing extends it: resending reuses the link and its contacts;
* a deleted link is gone at once and for good (its files are deleted too);
* when something in the share cannot be anonymized, or the clinic asks for a link code, the page is
  locked behind a secret; wrong attempts are limited (5, then a 15-minute lock) and one-time codes are
  sent at most 3 an hour.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.contacts import Contact
from chalicelib.domain.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound

DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365
MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=15)
CODE_VALIDITY = timedelta(minutes=15)
MAX_CODES_PER_HOUR = 3
LANGUAGES = ("sv", "en")


class LinkExpired(Gone):
    """The link's life is over; a new share must be sent."""


class LinkDeleted(Gone):
    """The clinic deleted the link; it can never be used or resent."""


class LinkLocked(Forbidden):
    """Too many wrong attempts; the page is locked for a while."""


class TooManyCodes(Conflict):
    """One-time codes were asked for too often."""


class ShareStatus(StrEnum):
    """Where the share's preparation stands."""

    QUEUED = "queued"
    """Accepted; the share worker has not finished preparing the files."""
    READY = "ready"
    """Files prepared and the link sent (deliveries say how each contact fared)."""
    FAILED = "failed"
    """Preparation failed for good (the reason is recorded); the clinic can send anew."""


class DeliveryStatus(StrEnum):
    """What became of sending the link to one contact."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """One contact of a share and how the last sending to it went."""

    contact: Contact
    status: DeliveryStatus = DeliveryStatus.QUEUED
    reason: str | None = None
    attempts: int = 0
    sent_at: datetime | None = None


@dataclass(frozen=True)
class SharedFile:
    """One file prepared for the patient, in the share bucket."""

    key: str
    name: str
    kind: str  # "image", "video", "dicom", "zip"
    mime: str
    size: int
    sop_instance_uid: str | None = None


@dataclass(frozen=True)
class Share:
    """A study sent to a patient."""

    share_id: str
    clinic_id: str
    study_instance_uid: str
    sop_instance_uids: tuple[str, ...] | None  # None: every instance of the study
    deliveries: tuple[Delivery, ...]
    language: str
    token_hash: str
    token_nonce: str
    created_at: datetime
    expires_at: datetime
    last_sent_at: datetime | None = None
    deleted_at: datetime | None = None
    status: ShareStatus = ShareStatus.QUEUED
    failure: str | None = None
    needs_password: bool = False
    link_code_hash: str | None = None
    password_hash: str | None = None
    files: tuple[SharedFile, ...] = field(default_factory=tuple)
    failed_attempts: int = 0
    locked_until: datetime | None = None
    code_hash: str | None = None
    code_expires_at: datetime | None = None
    codes_sent_at: tuple[datetime, ...] = field(default_factory=tuple)
    #: How many times the stored share has been written: a save carries the version it read, and fails
    #: when another write came between (workers, the clinic and the patient change one share at once).
    version: int = 0

    # ------------------------------------------------------------------ life of the link

    def ensure_open(self, now: datetime) -> None:
        """Raise unless the link may be used now."""
        if self.deleted_at is not None:
            raise LinkDeleted("This link has been deleted")
        if now >= self.expires_at:
            raise LinkExpired("This link has expired; send the patient a new link")

    def is_expired(self, now: datetime) -> bool:
        """Whether the link's life is over."""
        return now >= self.expires_at

    def resent(self, now: datetime) -> Share:
        """The same share, sent again to the same contacts with the same link; its life is unchanged."""
        self.ensure_open(now)
        if self.status is not ShareStatus.READY:
            raise Conflict("The share is still being prepared; it is sent as soon as it is ready")
        return replace(self, deliveries=tuple(Delivery(d.contact) for d in self.deliveries))

    def deleted(self, now: datetime) -> Share:
        """The same share, deleted; deleting twice keeps the first time."""
        return self if self.deleted_at is not None else replace(self, deleted_at=now, files=())

    # ------------------------------------------------------------------ the lock

    @property
    def locked_by_secret(self) -> bool:
        """Whether the page asks for a secret before it shows anything."""
        return self.needs_password or self.link_code_hash is not None

    def ensure_not_locked(self, now: datetime) -> None:
        """Raise while wrong attempts keep the page locked."""
        if self.locked_until is not None and now < self.locked_until:
            minutes = max(1, math.ceil((self.locked_until - now).total_seconds() / 60))
            raise LinkLocked(f"Too many wrong attempts; try again in {minutes} minutes")

    def attempt_failed(self, now: datetime) -> Share:
        """Record a wrong secret; the fifth in a row locks the page for 15 minutes."""
        attempts = self.failed_attempts + 1
        if attempts >= MAX_FAILED_ATTEMPTS:
            return replace(self, failed_attempts=0, locked_until=now + LOCK_DURATION)
        return replace(self, failed_attempts=attempts)

    def attempt_succeeded(self) -> Share:
        """A right secret clears the count of wrong ones."""
        return replace(self, failed_attempts=0, locked_until=None)

    def with_code(self, code_hash: str, now: datetime) -> Share:
        """Record a one-time code sent now; at most three an hour."""
        recent = tuple(t for t in self.codes_sent_at if now - t < timedelta(hours=1))
        if len(recent) >= MAX_CODES_PER_HOUR:
            raise TooManyCodes("A code was sent three times in the last hour; use the latest one or try later")
        return replace(self, code_hash=code_hash, code_expires_at=now + CODE_VALIDITY, codes_sent_at=(*recent, now))

    def code_usable(self, now: datetime) -> bool:
        """Whether a one-time code is outstanding and still valid."""
        return self.code_hash is not None and self.code_expires_at is not None and now < self.code_expires_at


def share_token(key: bytes, share: Share) -> str:
    """The share's link token (reproducible: resending sends the same link)."""
    from chalicelib.domain.links import link_token

    return link_token(key, "share", share.share_id, share.token_nonce)


class AccessKind(StrEnum):
    """What a visitor of a link did (recorded for the history and for audit)."""

    OPENED = "opened"
    DOWNLOADED = "downloaded"
    UNLOCKED = "unlocked"
    UNLOCK_FAILED = "unlock_failed"
    CODE_SENT = "code_sent"


@dataclass(frozen=True)
class AccessEvent:
    """One use of a link. ``client`` is a keyed hash of the visitor's address: never the address itself."""

    share_id: str
    at: datetime
    kind: AccessKind
    client: str
    detail: str | None = None


def client_fingerprint(key: bytes, address: str) -> str:
    """A keyed hash of a client address: the same visitor matches itself, and nobody can reverse it.

    Made under the current key, so after a rotation of the key the same visitor hashes anew.
    """
    import hashlib
    import hmac

    return hmac.new(key, f"client:{address}".encode(), hashlib.sha256).hexdigest()[:16]


def new_share_id() -> str:
    """A fresh opaque share id."""
    return f"sh_{secrets.token_hex(10)}"


def lifetime(days: int | None, default_days: int) -> timedelta:
    """A link lifetime in days, within the rules."""
    chosen = default_days if days is None else days
    if isinstance(chosen, bool) or not isinstance(chosen, int) or not 1 <= chosen <= MAX_LIFETIME_DAYS:
        raise InvalidInput(f"The link lifetime must be 1 to {MAX_LIFETIME_DAYS} days")
    return timedelta(days=chosen)


def language(value: object, default: str) -> str:
    """A supported language code."""
    chosen = default if value is None else value
    if chosen not in LANGUAGES:
        raise InvalidInput("'language' must be 'sv' or 'en'")
    return str(chosen)


def ensure_same_clinic(share: Share, clinic_id: str) -> Share:
    """The share, if it belongs to the clinic; NotFound otherwise (never say whose it is)."""
    if share.clinic_id != clinic_id:
        raise NotFound("No such share")
    return share
