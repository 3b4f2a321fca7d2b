"""Clinics and their API keys.

An API key is ``psk_<key_id>_<secret>``: the key id is public (it names the key in logs and in
``revoke-key``), the secret carries 256 random bits and is stored only as its SHA-256 hash. A fast
hash is right here: with that much entropy there is nothing to brute-force, and the authorizer runs
on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.domain.contacts import DEFAULT_COUNTRY
from chalicelib.domain.errors import Forbidden, InvalidInput, TooManyRequests, Unauthenticated

KEY_PREFIX = "psk"
_KEY_ID_BYTES = 8
_SECRET_BYTES = 32
MAX_CLINIC_NAME = 120
#: E-mails and texts a clinic may send in one day (UTC) unless its settings say otherwise: well above
#: a busy clinic's day, well below what a stolen key could do to patients' inboxes and the SMS bill.
DEFAULT_DAILY_MESSAGES = 500
MAX_DAILY_MESSAGES = 20_000


@dataclass(frozen=True)
class Clinic:
    """A customer of the service; every other record is scoped to one clinic."""

    clinic_id: str
    name: str
    created_at: datetime
    country: str = DEFAULT_COUNTRY
    """ISO 3166 alpha-2: phone numbers typed without ``+`` are read in this country."""
    link_code_hash: str | None = None
    """The Patient Link Code (scrypt): when set, every new link asks for it."""
    link_lifetime_days: int = 90
    """How long a new link works unless the request says otherwise (at most 365)."""
    language: str = "sv"
    """The language of links and messages unless the request says otherwise."""
    daily_message_limit: int = DEFAULT_DAILY_MESSAGES
    """How many e-mails and texts (links and one-time codes) the clinic may send in one UTC day."""
    version: int = 0
    """Written conditionally on it (``services/versioned``): two administrators' changes never overwrite each other."""


class SendingQuotaExceeded(TooManyRequests):
    """The clinic has sent as many e-mails and texts today as its daily quota allows."""

    def __init__(self, limit: int, now: datetime) -> None:
        renews = datetime.combine(sending_day(now) + timedelta(days=1), time(), tzinfo=UTC)
        super().__init__(
            f"The clinic's daily quota of {limit} e-mails and text messages is used up; it renews at 00:00 UTC",
            math.ceil((renews - now).total_seconds()),
        )


def sending_day(now: datetime) -> date:
    """The day a message sent at ``now`` counts toward (UTC)."""
    return now.astimezone(UTC).date()


class InvalidDailyLimit(InvalidInput):
    """A daily quota outside 1 to ``MAX_DAILY_MESSAGES``."""

    public_code = "InvalidInput"


class InvalidLinkCode(InvalidInput):
    """A Patient Link Code shorter or longer than the rules allow."""

    public_code = "InvalidInput"


def daily_message_limit(value: int) -> int:
    """A valid daily quota of e-mails and texts."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAILY_MESSAGES:
        raise InvalidDailyLimit(f"'daily_message_limit' must be a whole number from 1 to {MAX_DAILY_MESSAGES}")
    return value


@dataclass(frozen=True)
class ApiKey:
    """A stored API key: its public id, the hash of its secret, and whether it is revoked."""

    key_id: str
    clinic_id: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    def revoke(self, now: datetime) -> ApiKey:
        """The same key, revoked at ``now`` (revoking twice keeps the first time)."""
        return self if self.revoked_at is not None else replace(self, revoked_at=now)

    def ensure_usable(self, secret: str) -> None:
        """Raise unless ``secret`` is this key's secret and the key is not revoked."""
        if not hmac.compare_digest(self.secret_hash, hash_secret(secret)):
            raise Unauthenticated("The API key is not valid")
        self.ensure_active()

    def ensure_active(self) -> None:
        """Raise Forbidden once the key is revoked (for what was done with it before: a chat session)."""
        if self.revoked_at is not None:
            raise Forbidden("The API key has been revoked")


@dataclass(frozen=True)
class IssuedKey:
    """A newly made key: the only moment its plain text exists."""

    key: ApiKey
    plain_text: str


@dataclass(frozen=True)
class PresentedKey:
    """A key as a caller presented it, split into its parts."""

    key_id: str
    secret: str


def new_clinic_id() -> str:
    """A fresh opaque clinic id."""
    return f"cl_{secrets.token_hex(8)}"


def clinic_name(raw: str) -> str:
    """Validate and normalise a clinic's display name."""
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput("The clinic name must not be empty")
    if len(name) > MAX_CLINIC_NAME:
        raise InvalidInput(f"The clinic name must be at most {MAX_CLINIC_NAME} characters")
    return name


def hash_secret(secret: str) -> str:
    """The stored form of a key's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(clinic_id: str, now: datetime) -> IssuedKey:
    """Make a new random key for a clinic."""
    key_id = secrets.token_hex(_KEY_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    key = ApiKey(key_id=key_id, clinic_id=clinic_id, secret_hash=hash_secret(secret), created_at=now)
    return IssuedKey(key=key, plain_text=f"{KEY_PREFIX}_{key_id}_{secret}")


def parse_presented_key(authorization: str) -> PresentedKey:
    """Parse an ``Authorization: Bearer psk_…`` header value."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send the API key as 'Authorization: Bearer <key>'")
    prefix, _, rest = token.strip().partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or len(key_id) != 2 * _KEY_ID_BYTES or not secret:
        raise Unauthenticated("The API key is not valid")
    return PresentedKey(key_id=key_id, secret=secret)
