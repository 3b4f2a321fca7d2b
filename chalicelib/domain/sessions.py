"""Signed, expiring claims: the chat pages' session cookies and the clinician's one-time chat links.

A value is ``<claims>.<signature>``: the claims as compact JSON in base64url, signed with HMAC-SHA256
under the current session key and accepted under the current or the previous one, so a rotation of the
key ends no session (a second rotation ends those older than it). Nothing is stored server-side, so a
session ends when it expires. Claims hold opaque ids only: they travel in URLs and cookies.

A clinician's session is more than a signature: its ticket (the chat link) carries a random id that may
be used once (``services`` record its use), and it names the clinic's API key it was made with, which
every request checks again, so revoking that key ends the session at once (``ClinicianClaims``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.keys import KeyRing

#: A browser session lasts a working day; the patient gets a new one each time they open their link.
SESSION_LIFETIME = timedelta(hours=12)
#: A clinician's chat link must be opened this soon after it was made.
TICKET_LIFETIME = timedelta(minutes=5)
#: A used ticket is remembered this long past the latest it could expire (clocks of two Lambdas may differ).
USED_TICKET_MARGIN = timedelta(minutes=5)
_TICKET_ID_BYTES = 16  # 128 random bits


class Purpose(StrEnum):
    """What a signed value may be used for; one purpose is never accepted for another."""

    PATIENT_SESSION = "patient-session"
    CLINICIAN_TICKET = "clinician-ticket"
    CLINICIAN_SESSION = "clinician-session"
    SHARE_UNLOCKED = "share-unlocked"
    CONSOLE_SESSION = "console-session"
    CONSOLE_CHALLENGE = "console-challenge"


@dataclass(frozen=True)
class ClinicianClaims:
    """What a clinician's chat link (its ticket) and the session it opens stand for."""

    clinic_id: str
    visit_id: str
    clinician: str
    key_id: str
    """The clinic's API key the link was asked for with: the session lasts only while it is not revoked."""
    ticket_id: str
    """Random, ≥128 bits: the ticket works once."""
    staff_id: str = ""
    """The console member a session opened from the console stands for (then ``key_id`` is empty): it lasts only
    while the member is enabled and of the clinic."""

    def to_claims(self) -> dict[str, str]:
        """The claims to sign."""
        claims = {
            "clinic": self.clinic_id,
            "visit": self.visit_id,
            "clinician": self.clinician,
            "key": self.key_id,
            "ticket": self.ticket_id,
        }
        if self.staff_id:
            claims["staff"] = self.staff_id
        return claims

    @classmethod
    def from_claims(cls, claims: dict[str, str]) -> ClinicianClaims:
        """The claims of a verified ticket or session; Unauthenticated when one is missing (an older cookie)."""
        try:
            made = cls(
                claims["clinic"], claims["visit"], claims["clinician"], claims["key"], claims["ticket"],
                claims.get("staff", ""),
            )  # fmt: skip
        except KeyError as err:
            raise Unauthenticated("The session is not valid; open the chat from the clinic's system again") from err
        if not made.key_id and not made.staff_id:  # bound to nothing that could be revoked: no session
            raise Unauthenticated("The session is not valid; open the chat from the clinic's system again")
        return made

    @property
    def ticket_use(self) -> str:
        """The ticket's entry in the record of single uses."""
        return f"clinician-ticket:{self.ticket_id}"


def new_ticket_id() -> str:
    """A fresh random ticket id."""
    return secrets.token_urlsafe(_TICKET_ID_BYTES)


class BadSignature(Unauthenticated):
    """No key of the ring signed the value: forged, damaged, or signed under a key newer than the ring."""


def sign(purpose: Purpose, claims: dict[str, str], keys: KeyRing, expires_at: datetime) -> str:
    """A value carrying ``claims`` for ``purpose`` until ``expires_at``, signed with the current key."""
    body = {**claims, "purpose": purpose.value, "exp": int(expires_at.timestamp())}
    payload = _encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_signature(payload, keys.current)}"


def verify(value: str, purpose: Purpose, keys: KeyRing, now: datetime) -> dict[str, str]:
    """The claims of a value signed with a key of ``keys`` for ``purpose`` and not yet expired.

    Raises BadSignature when no key of the ring signed it, Unauthenticated for anything else (the
    message does not say which check failed).
    """
    payload, _, signature = value.partition(".")
    # Compared as bytes: the value comes from a URL or a cookie and may hold any character.
    given = signature.encode("utf-8", "surrogatepass")
    if not payload or not any(hmac.compare_digest(given, _signature(payload, k).encode()) for k in keys.verifying):
        raise BadSignature("The session is not valid; open the link again")
    body = json.loads(_decode(payload))
    if body.get("purpose") != purpose.value or int(body.get("exp", 0)) <= now.timestamp():
        raise Unauthenticated("The session has expired; open the link again")
    return {k: str(v) for k, v in body.items() if k not in {"purpose", "exp"}}


def _signature(payload: str, key: bytes) -> str:
    return _encode(hmac.new(key, payload.encode("utf-8", "surrogatepass"), hashlib.sha256).digest())


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
