"""The deployment's signing keys: the current one signs; it and the one before it verify.

The key material lives in a secret store with versions (Secrets Manager: its AWSCURRENT and AWSPREVIOUS
versions) and is read at run time, never from the environment. Keeping the previous key for verifying is
what lets the key rotate without ending every session and chat link made a moment before.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

#: Key material shorter than this is refused (HMAC-SHA256 wants at least its output's 32 bytes).
MIN_KEY_BYTES = 32


class WeakKey(ValueError):
    """Key material too short to sign with: a deployment fault, never the caller's."""


class KeyStage(StrEnum):
    """Where a version of the key stands in its rotation."""

    CURRENT = "current"
    """Signs, and verifies."""
    PREVIOUS = "previous"
    """The current key before the last rotation: verifies only."""
    PENDING = "pending"
    """Made by a rotation under way; becomes current when the rotation finishes."""


@dataclass(frozen=True)
class KeyRing:
    """The keys of this moment: ``current`` signs; ``current`` and ``previous`` verify."""

    current: bytes
    previous: bytes | None = None

    def __post_init__(self) -> None:
        for key in (self.current, self.previous):
            if key is not None and len(key) < MIN_KEY_BYTES:
                raise WeakKey(f"A signing key must be at least {MIN_KEY_BYTES} bytes")

    @property
    def verifying(self) -> tuple[bytes, ...]:
        """Every key a value may have been signed with, newest first."""
        if self.previous is None or self.previous == self.current:
            return (self.current,)
        return (self.current, self.previous)

    def derived(self, purpose: bytes) -> KeyRing:
        """The ring with each key replaced by one derived from it for ``purpose`` only."""
        return KeyRing(
            _derive(self.current, purpose), None if self.previous is None else _derive(self.previous, purpose)
        )


def new_key_material() -> bytes:
    """Fresh key material: 384 random bits as 64 URL-safe characters (a secret store keeps text)."""
    return secrets.token_urlsafe(48).encode()


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, purpose, hashlib.sha256).digest()
