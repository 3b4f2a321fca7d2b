"""A staff member's console session: what its signed cookie says, its two timeouts, and its CSRF token.

The cookie is signed as every session of the service is (``domain.sessions``, under the key ring); it holds
opaque ids and times only. It ends after ``IDLE_TIMEOUT`` without a request (each request re-signs it with a
new ``seen_at``) and ``ABSOLUTE_TIMEOUT`` after sign-in whatever happens. Every form carries a CSRF token
derived from the session's random id, so a token from another session, or another member's, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.domain.keys import KeyRing

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
_SESSION_ID_BYTES = 16  # 128 random bits


class SessionEnded(Unauthenticated):
    """The console session timed out, was signed out, or its member may no longer sign in."""

    def __init__(self) -> None:
        super().__init__("The session has ended; sign in again")


@dataclass(frozen=True)
class ConsoleSession:
    """Who is signed in to the console, since when, and when they were last seen."""

    staff_id: str
    clinic_id: str
    session_id: str
    """Random, ≥128 bits: what the CSRF token is bound to."""
    started_at: datetime
    seen_at: datetime

    @property
    def expires_at(self) -> datetime:
        """The earlier of the idle and the absolute timeout."""
        return min(self.seen_at + IDLE_TIMEOUT, self.started_at + ABSOLUTE_TIMEOUT)

    def touched(self, now: datetime) -> ConsoleSession:
        """The session after a request at ``now``; raises SessionEnded when it timed out before."""
        if now >= self.expires_at:
            raise SessionEnded
        return replace(self, seen_at=now)

    def to_claims(self) -> dict[str, str]:
        """The claims to sign (times as whole seconds since the epoch)."""
        return {
            "staff": self.staff_id,
            "clinic": self.clinic_id,
            "sid": self.session_id,
            "start": str(int(self.started_at.timestamp())),
            "seen": str(int(self.seen_at.timestamp())),
        }

    @classmethod
    def from_claims(cls, claims: dict[str, str]) -> ConsoleSession:
        """The session a verified cookie holds; SessionEnded when it is not a console session's."""
        try:
            return cls(
                claims["staff"],
                claims["clinic"],
                claims["sid"],
                datetime.fromtimestamp(int(claims["start"]), UTC),
                datetime.fromtimestamp(int(claims["seen"]), UTC),
            )
        except (KeyError, ValueError):
            raise SessionEnded from None


def start(staff_id: str, clinic_id: str, now: datetime) -> ConsoleSession:
    """A new session for a member who has just signed in."""
    return ConsoleSession(staff_id, clinic_id, secrets.token_urlsafe(_SESSION_ID_BYTES), now, now)


def csrf_token(session: ConsoleSession, keys: KeyRing) -> str:
    """The token every form of this session carries (the same for the whole session)."""
    return _csrf(session, keys.current)


def check_csrf(given: str, session: ConsoleSession, keys: KeyRing) -> None:
    """Refuse (Forbidden) a form whose token is not this session's, under the current or previous key."""
    presented = given.encode("utf-8", "surrogatepass")
    if not any(hmac.compare_digest(presented, _csrf(session, key).encode()) for key in keys.verifying):
        raise Forbidden("The form has expired; reload the page and try again")


def sign_in_nonce() -> str:
    """The random value the sign-in form's cookie holds (≥128 bits): what its token is bound to."""
    return secrets.token_urlsafe(_SESSION_ID_BYTES)


def sign_in_token(nonce: str, keys: KeyRing) -> str:
    """The sign-in form's CSRF token: only a page of ours, which set the cookie, can have it (login CSRF)."""
    return _keyed(keys.current, f"console-sign-in:{nonce}")


def check_sign_in_token(given: str, nonce: str, keys: KeyRing) -> None:
    """Refuse (Forbidden) a sign-in whose token does not match its cookie's nonce."""
    presented = given.encode("utf-8", "surrogatepass")
    expected = (_keyed(key, f"console-sign-in:{nonce}").encode() for key in keys.verifying)
    if not nonce or not any(hmac.compare_digest(presented, token) for token in expected):
        raise Forbidden("The form has expired; reload the page and try again")


def _keyed(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _csrf(session: ConsoleSession, key: bytes) -> str:
    message = f"console-csrf:{session.session_id}:{session.staff_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
