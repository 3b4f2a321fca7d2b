"""Verifying the staff pool's ID tokens against its published keys (JWKS), with joserfc.

The only module that imports the JOSE library; ``cognito.py`` loads it on the first verification of a
process, so no cold start pays for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from chalicelib.domain.staff import InvalidToken, Role, StaffIdentity

JwksLoader = Callable[[], dict[str, Any]]
_ALGORITHMS = ["RS256"]  # what Cognito signs with; "none" and HMAC are never accepted


def fetch_jwks(issuer: str, pool_id: str, endpoint_url: str | None, region: str) -> dict[str, Any]:
    """The pool's public keys: at the issuer's well-known URL in AWS (and in in-process moto); at moto's own URL
    on the local stack's server, which needs a Cognito-signed request to know which service is asked."""
    if endpoint_url:
        url = f"{endpoint_url}/{pool_id}/.well-known/jwks.json"
        headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{region}/cognito-idp/aws4_request"}
    else:
        url, headers = f"{issuer}/.well-known/jwks.json", {}
    response = requests.get(url, headers=headers, timeout=5)
    response.raise_for_status()
    keys: dict[str, Any] = response.json()
    return keys


class JwksVerifier:
    """Checks an ID token's signature, issuer, audience (our client), ``token_use`` and expiry."""

    def __init__(self, load_keys: JwksLoader, issuer: str, client_id: str) -> None:
        self._load_keys = load_keys
        self._issuer = issuer
        self._client_id = client_id
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def verify(self, id_token: str, now: datetime) -> StaffIdentity:
        """The identity the token names; raises InvalidToken saying which check failed (never the token)."""
        try:
            try:
                token = jwt.decode(id_token, self._key_set(refresh=False), algorithms=_ALGORITHMS)
            except InvalidKeyIdError:  # the pool may have rotated its keys: read them once more
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=_ALGORITHMS)
        except (JoseError, ValueError) as err:
            raise InvalidToken(type(err).__name__) from err
        claims = token.claims
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._client_id},
            token_use={"essential": True, "value": "id"},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as err:
            raise InvalidToken(type(err).__name__) from err
        try:
            return StaffIdentity(
                staff_id=str(claims["sub"]),
                email=str(claims.get("email", "")),
                clinic_id=str(claims["custom:clinic_id"]),
                role=Role(claims["custom:role"]),
            )
        except (KeyError, ValueError) as err:
            raise InvalidToken("no clinic or role") from err

    def _key_set(self, *, refresh: bool) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                self._keys = KeySet.import_key_set(self._load_keys())  # type: ignore[arg-type]
            return self._keys
