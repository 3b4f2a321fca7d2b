"""Shares: a study (or chosen instances of it) sent to a patient through one secret link.

The rules a share lives by are here, with time passed in:

* a link expires at ``expires_at`` and nothing extends it: resending reuses the link and its contacts;
* a deleted link is gone at once and for good (its files are deleted too);
* when the clinic asks for a link code, the page is locked behind that code; when something in the
  share cannot be anonymized, it is locked (also) behind the patient's own password or a one-time code
  sent to the share's contacts, since every patient of the clinic knows the clinic's code;
* attempts at a secret are counted before the secret is checked: five in a window, then a 15-minute lock
  that the right secret does not lift early (only a clinic's administrator can, on the patient's word);
  one-time codes are single-use, valid 15 minutes and sent at most 3 an hour;
* a clinic lists its shares newest first, a page at a time (``ShareCursor``), as live, expired or deleted.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.deliveries import Delivery
from chalicelib.domain.errors import Conflict, Forbidden, Gone, InvalidInput, Locked, NotFound, TooManyRequests

DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365
MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=15)
CODE_VALIDITY = timedelta(minutes=15)
MAX_CODES_PER_HOUR = 3
#: How long a share's history (its row, its deliveries' fate, its access events) outlives its link.
HISTORY_AFTER_EXPIRY = timedelta(days=30)
LANGUAGES = ("sv", "en")


class LinkExpired(Gone):
    """The link's life is over; a new share must be sent."""


class LinkDeleted(Gone):
    """The clinic deleted the link; it can never be used or resent."""


class LinkLocked(Locked):
    """Too many attempts at the link's secret; the page refuses every attempt for a while."""

    def __init__(self, locked_until: datetime, now: datetime) -> None:
        seconds = math.ceil((locked_until - now).total_seconds())
        super().__init__(f"Too many wrong attempts; try again in {max(1, math.ceil(seconds / 60))} minutes", seconds)
        self.locked_until = locked_until


class StillPreparing(Conflict):
    """The share's files are still being prepared: it is sent as soon as they are ready, not before."""


class WrongSecret(Forbidden):
    """The code or password does not match (the attempt was counted)."""


class TooManyCodes(TooManyRequests):
    """One-time codes were asked for too often."""


@dataclass(frozen=True)
class Attempts:
    """Attempts at a link's secret in the current window, and the lock the last of them set.

    An attempt is counted before its secret is checked, so attempts sent side by side each use up one
    of the window's five; the fifth locks the link for 15 minutes whatever it turns out to be, and the
    lock ends with time, or when an administrator of the clinic lifts it. Repositories apply ``taken``,
    ``cleared`` and ``lifted`` atomically to the stored share, each in one conditional write.
    """

    count: int = 0
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        """Whether a lock is in force."""
        return self.locked_until is not None and now < self.locked_until

    def ensure_unlocked(self, now: datetime) -> None:
        """Raise LinkLocked while a lock is in force."""
        if self.locked_until is not None and now < self.locked_until:
            raise LinkLocked(self.locked_until, now)

    def taken(self, now: datetime) -> Attempts:
        """One more attempt, allowed to be checked; raises LinkLocked when none may be made now."""
        self.ensure_unlocked(now)
        count = 1 if self.locked_until is not None else self.count + 1  # a lock that ended starts a new window
        return Attempts(count, now + LOCK_DURATION if count >= MAX_FAILED_ATTEMPTS else None)

    def cleared(self, now: datetime) -> Attempts:
        """After a right secret: a new window, unless a lock is in force (it stays until it ends)."""
        return self if self.locked(now) else Attempts()

    def lifted(self, now: datetime) -> Attempts:
        """An administrator lifts a lock in force: a new window. Without a lock in force, nothing changes (the
        count of a window still open is the patient's, not the clinic's, to clear)."""
        return Attempts() if self.locked(now) else self


class LinkState(StrEnum):
    """Whether a link can still be used (``Share.state``): what the clinic's lists filter by."""

    LIVE = "live"
    """Neither deleted nor expired: it opens (once its files are ready) and may be resent."""
    EXPIRED = "expired"
    """Its life is over; the history keeps it for a while."""
    DELETED = "deleted"
    """The clinic deleted it; it answers as if it never was."""


class ShareStatus(StrEnum):
    """Where the share's preparation stands."""

    QUEUED = "queued"
    """Accepted; the share worker has not finished preparing the files."""
    READY = "ready"
    """Files prepared and the link sent (deliveries say how each contact fared)."""
    FAILED = "failed"
    """Preparation failed for good (the reason is recorded); the clinic can send anew."""


@dataclass(frozen=True)
class SharedFile:
    """One file prepared for the patient, in the share bucket."""

    key: str
    name: str
    kind: str  # "image", "video", "poster" (a video's first picture), "document", "dicom", "zip"
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
    #: What the images are, from the clinic's records when the share was made (the files' dates are
    #: shifted by anonymization): the real study date (ISO 8601) and the description, Clean Descriptors
    #: applied. Empty for shares made before they were kept, or when the records had none.
    study_date: str = ""
    study_description: str = ""
    link_code_hash: str | None = None
    password_hash: str | None = None
    files: tuple[SharedFile, ...] = field(default_factory=tuple)
    #: Written only through the repository's atomic ``take_attempt`` / ``clear_attempts``, never by ``save``.
    attempts: Attempts = field(default_factory=Attempts)
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

    def state(self, now: datetime) -> LinkState:
        """Live, expired or deleted, by the rules of ``ensure_open`` (deleted wins over expired)."""
        if self.deleted_at is not None:
            return LinkState.DELETED
        return LinkState.EXPIRED if self.is_expired(now) else LinkState.LIVE

    def resent(self, now: datetime) -> Share:
        """The same share, sent again to the same contacts with the same link; its life is unchanged.

        A contact whose address hard-bounced or complained is not written to again (``skipped``).
        """
        self.ensure_open(now)
        if self.status is not ShareStatus.READY:
            raise StillPreparing("The share is still being prepared; it is sent as soon as it is ready")
        return replace(self, deliveries=tuple(d.queued_again() for d in self.deliveries))

    @property
    def skipped(self) -> tuple[Delivery, ...]:
        """Contacts a resend or a one-time code does not reach: their address said never to write again."""
        return tuple(d for d in self.deliveries if d.suppressed)

    def deleted(self, now: datetime) -> Share:
        """The same share, deleted; deleting twice keeps the first time."""
        return self if self.deleted_at is not None else replace(self, deleted_at=now, files=())

    # ------------------------------------------------------------------ the lock

    @property
    def locked_by_secret(self) -> bool:
        """Whether the page asks for a secret before it shows anything."""
        return self.needs_password or self.link_code_hash is not None

    def with_code(self, code_hash: str, now: datetime) -> Share:
        """Record a one-time code sent now; at most three an hour."""
        recent = tuple(t for t in self.codes_sent_at if now - t < timedelta(hours=1))
        if len(recent) >= MAX_CODES_PER_HOUR:
            wait = math.ceil((min(recent) + timedelta(hours=1) - now).total_seconds())
            raise TooManyCodes("A code was sent three times in the last hour; use the latest one or try later", wait)
        return replace(self, code_hash=code_hash, code_expires_at=now + CODE_VALIDITY, codes_sent_at=(*recent, now))

    def code_usable(self, now: datetime) -> bool:
        """Whether a one-time code is outstanding and still valid."""
        return self.code_hash is not None and self.code_expires_at is not None and now < self.code_expires_at

    def code_used(self, code_hash: str, now: datetime) -> Share:
        """The share once the code stored as ``code_hash`` has unlocked it: a code works once.

        Raises WrongSecret when that code is no longer outstanding (used by a request that came first,
        replaced by a newer code, or expired), so of two requests with one code, only one gets in.
        """
        if self.code_hash != code_hash or not self.code_usable(now):
            raise WrongSecret("That code or password is not right")
        return replace(self, code_hash=None, code_expires_at=None)


def share_token(key: bytes, share: Share) -> str:
    """The share's link token (reproducible: resending sends the same link)."""
    from chalicelib.domain.links import link_token

    return link_token(key, "share", share.share_id, share.token_nonce)


class AccessKind(StrEnum):
    """What was done with a link, by its visitor or by the clinic (recorded for the history and for audit)."""

    SENT = "sent"
    RESENT = "resent"
    DELETED = "deleted"
    LOCK_LIFTED = "lock_lifted"
    OPENED = "opened"
    DOWNLOADED = "downloaded"
    UNLOCKED = "unlocked"
    UNLOCK_FAILED = "unlock_failed"
    CODE_SENT = "code_sent"


@dataclass(frozen=True)
class AccessEvent:
    """One use of a link. ``client`` is a keyed hash of the visitor's address (never the address itself), or,
    for what the clinic did, the acting staff member or API key (``actor``)."""

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


def staff_actor(staff_id: str) -> str:
    """How the audit names a staff member who acted in the console."""
    return f"staff:{staff_id}"


def key_actor(key_id: str) -> str:
    """How the audit names an integration that acted with the clinic's API key."""
    return f"key:{key_id}"


class ActorKind(StrEnum):
    """Who an access event's ``client`` names."""

    STAFF = "staff"
    """A staff member, in the console (``staff_actor``)."""
    KEY = "key"
    """An integration, with the clinic's API key (``key_actor``)."""
    VISITOR = "visitor"
    """The link's visitor (the patient), by the keyed hash of their address (``client_fingerprint``)."""


def actor_of(client: str) -> tuple[ActorKind, str]:
    """Who an event's ``client`` is, and their id (a staff id, an API key id, or the visitor's hash)."""
    kind, _, rest = client.partition(":")
    if rest and kind in (ActorKind.STAFF, ActorKind.KEY):
        return ActorKind(kind), rest
    return ActorKind.VISITOR, client


@dataclass(frozen=True)
class ShareCursor:
    """Where a page of a clinic's shares, newest first, ended: the next page starts after this share.

    Shares are ordered by ``created_at``, then ``share_id`` (two shares made in the same instant keep an order).
    The cursor carries no secret (a time and an opaque id), and a page is only ever read within the caller's
    own clinic, so a cursor made up by hand can only move within that clinic's list.
    """

    created_at: datetime
    share_id: str

    @classmethod
    def after(cls, share: Share) -> ShareCursor:
        """The cursor of the page that ends with ``share``."""
        return cls(share.created_at, share.share_id)

    def comes_before(self, share: Share) -> bool:
        """Whether ``share`` lies after this cursor in the newest-first order (so a page from here holds it)."""
        return (share.created_at, share.share_id) < (self.created_at, self.share_id)

    def text(self) -> str:
        """The cursor as a query string carries it."""
        raw = f"{self.created_at.isoformat()}|{self.share_id}".encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def parse(cls, text: str) -> ShareCursor:
        """A cursor that ``text`` gave; InvalidInput for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            at, share_id = raw.split("|")
            created_at = datetime.fromisoformat(at)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidInput("'cursor' is not one this service gave") from None
        if created_at.tzinfo is None or not share_id.startswith("sh_") or len(share_id) > 64:
            raise InvalidInput("'cursor' is not one this service gave")
        return cls(created_at, share_id)


def new_share_id() -> str:
    """A fresh opaque share id."""
    return f"sh_{secrets.token_hex(10)}"


class InvalidLifetime(InvalidInput):
    """A link lifetime outside 1 to ``MAX_LIFETIME_DAYS`` days."""

    public_code = "InvalidInput"


class InvalidLanguage(InvalidInput):
    """A language the pages and messages are not written in."""

    public_code = "InvalidInput"


def lifetime(days: int | None, default_days: int) -> timedelta:
    """A link lifetime in days, within the rules."""
    chosen = default_days if days is None else days
    if isinstance(chosen, bool) or not isinstance(chosen, int) or not 1 <= chosen <= MAX_LIFETIME_DAYS:
        raise InvalidLifetime(f"The link lifetime must be 1 to {MAX_LIFETIME_DAYS} days")
    return timedelta(days=chosen)


def language(value: object, default: str) -> str:
    """A supported language code."""
    chosen = default if value is None else value
    if chosen not in LANGUAGES:
        raise InvalidLanguage("'language' must be 'sv' or 'en'")
    return str(chosen)


def ensure_same_clinic(share: Share, clinic_id: str) -> Share:
    """The share, if it belongs to the clinic; NotFound otherwise (never say whose it is)."""
    if share.clinic_id != clinic_id:
        raise NotFound("No such share")
    return share
