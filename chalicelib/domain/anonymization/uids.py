"""Replacement UIDs derived from the original with a keyed hash.

The same original UID gives the same replacement under one key, so every reference between the instances
of a share still resolves, and no table of originals has to be kept. Under another key (another share) the
replacement is unrelated, and without the key the original cannot be recovered or confirmed.

Replacements are ``2.25.<integer>`` UIDs (ISO/IEC 9834-8): the integer is a 128-bit UUID built from the
HMAC with the version and variant bits of an RFC 9562 version-8 ("custom") UUID, at most 44 characters.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

MIN_KEY_BYTES: Final = 16
DICOM_ROOT: Final = "1.2.840.10008."

_UUID_VERSION_8: Final = 0x8 << 76
_UUID_VARIANT_RFC: Final = 0x2 << 62
_UUID_FIXED_BITS: Final = (0xF << 76) | (0x3 << 62)


def check_key(key: bytes) -> None:
    """Refuse keys too short to keep replacements unguessable."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the share key must be at least {MIN_KEY_BYTES} bytes")


class UidMap:
    """Maps original UIDs to their replacements under one share key."""

    def __init__(self, key: bytes) -> None:
        check_key(key)
        self._key = hmac.new(key, b"patient-share uid", hashlib.sha256).digest()
        self._known: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        """The replacement for ``uid`` (surrounding padding ignored)."""
        original = uid.strip(" \0")
        replacement = self._known.get(original)
        if replacement is None:
            digest = hmac.new(self._key, original.encode("ascii", "replace"), hashlib.sha256).digest()
            number = int.from_bytes(digest[:16], "big")
            number = (number & ~_UUID_FIXED_BITS) | _UUID_VERSION_8 | _UUID_VARIANT_RFC
            replacement = self._known[original] = f"2.25.{number}"
        return replacement
