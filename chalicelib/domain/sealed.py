"""Sealed, expiring claims: a value a page may carry (a hidden field) that the browser can neither read
nor change, for claims that are credentials (a provider's access token), which ``domain.sessions``' signed
values would show in clear.

A value is a compact JWE (``dir`` + ``A256GCM``: encrypted and authenticated) under the current key of
the ring it is given and opened under the current or the previous one, as signed values are. The caller
derives the ring for one purpose only (``KeyRing.derived``), so a value sealed for one use is never
opened for another. The JOSE library is imported here, when a value is first sealed or opened.
"""

from __future__ import annotations

import json
from datetime import datetime

from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.keys import KeyRing

_HEADER = {"alg": "dir", "enc": "A256GCM"}


def seal(claims: dict[str, str], keys: KeyRing, expires_at: datetime) -> str:
    """``claims`` encrypted and authenticated under the ring's current key, until ``expires_at``."""
    from joserfc import jwe
    from joserfc.jwk import OctKey

    body = json.dumps({**claims, "exp": int(expires_at.timestamp())}, separators=(",", ":"), sort_keys=True)
    return jwe.encrypt_compact(_HEADER, body.encode(), OctKey.import_key(keys.current))


def unseal(value: str, keys: KeyRing, now: datetime) -> dict[str, str]:
    """The claims of a value sealed under a key of ``keys`` and not yet expired; Unauthenticated for anything
    else (damaged, forged, sealed for another purpose, expired: the message does not say which)."""
    from joserfc import jwe
    from joserfc.errors import JoseError
    from joserfc.jwk import OctKey

    for key in keys.verifying:
        try:
            opened = jwe.decrypt_compact(value, OctKey.import_key(key), algorithms=[_HEADER["alg"], _HEADER["enc"]])
        except (JoseError, ValueError, TypeError):
            continue
        body = json.loads(opened.plaintext or b"{}")
        if not isinstance(body, dict) or int(body.get("exp", 0)) <= now.timestamp():
            break
        return {k: str(v) for k, v in body.items() if k != "exp"}
    raise Unauthenticated("This step has expired or is not valid; start again")
