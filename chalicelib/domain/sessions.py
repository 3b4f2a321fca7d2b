"""Signed, expiring claims: the chat pages' session cookies and the clinician's one-time chat links.

A value is ``<claims>.<signature>``: the claims as compact JSON in base64url, signed with HMAC-SHA256
under the deployment's session key. Nothing is stored server-side, so a session ends when it expires
(or when the key is rotated). Claims hold opaque ids only: they travel in URLs and cookies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import Unauthenticated

#: A browser session lasts a working day; the patient gets a new one each time they open their link.
SESSION_LIFETIME = timedelta(hours=12)
#: A clinician's chat link must be opened this soon after it was made.
TICKET_LIFETIME = timedelta(minutes=5)


class Purpose(StrEnum):
    """What a signed value may be used for; one purpose is never accepted for another."""

    PATIENT_SESSION = "patient-session"
    CLINICIAN_TICKET = "clinician-ticket"
    CLINICIAN_SESSION = "clinician-session"
    SHARE_UNLOCKED = "share-unlocked"


def sign(purpose: Purpose, claims: dict[str, str], key: bytes, expires_at: datetime) -> str:
    """A signed value carrying ``claims`` for ``purpose`` until ``expires_at``."""
    body = {**claims, "purpose": purpose.value, "exp": int(expires_at.timestamp())}
    payload = _encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_signature(payload, key)}"


def verify(value: str, purpose: Purpose, key: bytes, now: datetime) -> dict[str, str]:
    """The claims of a value signed with ``key`` for ``purpose`` and not yet expired.

    Raises Unauthenticated for anything else (the message does not say which check failed).
    """
    payload, _, signature = value.partition(".")
    # Compared as bytes: the value comes from a URL or a cookie and may hold any character.
    given = signature.encode("utf-8", "surrogatepass")
    if not payload or not hmac.compare_digest(given, _signature(payload, key).encode()):
        raise Unauthenticated("The session is not valid; open the link again")
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
