"""Secret links and secrets typed by people: how they are made, stored and checked.

A link token is the HMAC-SHA256, under the deployment's current signing key, of the record's id and a
random 128-bit nonce: 256 bits nobody can guess without the key, and reproducible by us, so a resend
sends the very same link although only the token's SHA-256 hash is stored (a fast hash is right for that
much entropy, and lets a request find its row by the hash). Opening a link needs no key, only the hash,
so a rotation of the key never stops a link; re-making one for a resend needs the key it was made under,
the current or the previous one (``token_under``). Passwords and codes that people type are short, so
they are stored with scrypt and a salt, and checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

from chalicelib.domain.errors import Conflict
from chalicelib.domain.keys import KeyRing

TOKEN_BYTES = 32
#: A delivery's failure reason when its link can no longer be re-made (final: no retry can change it).
LINK_RETIRED = "link_retired"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def new_token() -> str:
    """A fresh random token (URL-safe, 256 random bits) for links that are never sent again."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_nonce() -> str:
    """The random part of a link (128 bits), stored with its record."""
    return secrets.token_hex(16)


def link_token(key: bytes, purpose: str, record_id: str, nonce: str) -> str:
    """The link token of a record: the same inputs give the same token, and none can be made without the key."""
    mac = hmac.new(key, f"{purpose}:{record_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """The stored form of a link token, by which its row is found."""
    return hashlib.sha256(token.encode()).hexdigest()


class LinkRetired(Conflict):
    """A link was made under a key older than the previous one: it still opens, but cannot be sent again."""


def token_under(keys: KeyRing, stored_hash: str, make: Callable[[bytes], str]) -> str | None:
    """The token ``make`` gives under whichever key of ``keys`` it was made with, found by ``stored_hash``.

    None when no key of the ring gives it (the link is older than the previous key): sending anything
    else would send a link that does not open.
    """
    for key in keys.verifying:
        token = make(key)
        if hmac.compare_digest(token_hash(token), stored_hash):
            return token
    return None


def looks_like_token(token: str) -> bool:
    """Cheap shape check before any lookup: wrong shapes never reach the database."""
    return 40 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def hash_secret(secret: str) -> str:
    """The stored form of a password or code a person types (scrypt with a random salt)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def secret_matches(secret: str, stored: str) -> bool:
    """Whether ``secret`` is the one ``stored`` was made from (constant time)."""
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt_b64), **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def new_one_time_code() -> str:
    """A six-digit code sent to a patient to prove they hold a contact of the share."""
    return f"{secrets.randbelow(10**6):06d}"
