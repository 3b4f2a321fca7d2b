"""The ID-token verifier refuses every token that is not our pool's, for our client, for signing in, unexpired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from chalicelib.adapters.cognito_tokens import JwksVerifier
from chalicelib.domain.staff import InvalidToken, Role

ISSUER = "https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_pool"
CLIENT = "console-client"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Pool:
    """A user pool's signing keys and the JWKS it publishes (counting how often it is read)."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.reads = 0

    def jwks(self) -> dict[str, Any]:
        self.reads += 1
        return {"keys": [self.key.as_dict(private=False)]}

    def rotate(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"k{self.reads + 2}"})

    def token(self, key: Any = None, alg: str = "RS256", **changes: Any) -> str:
        claims = {
            "iss": ISSUER,
            "aud": CLIENT,
            "token_use": "id",
            "sub": "staff-1",
            "email": "anna@klinik.example",
            "custom:clinic_id": "cl_00000000000000aa",
            "custom:role": "clinician",
            "iat": int(NOW.timestamp()),
            "exp": int((NOW + timedelta(hours=1)).timestamp()),
        }
        claims.update(changes)
        signer = key or self.key
        return jwt.encode(
            {"alg": alg, "kid": signer.kid or "k1"}, {k: v for k, v in claims.items() if v is not None}, signer
        )


@pytest.fixture
def pool() -> Pool:
    return Pool()


def test_a_good_token_names_the_member(pool: Pool) -> None:
    identity = JwksVerifier(pool.jwks, ISSUER, CLIENT).verify(pool.token(), NOW)
    assert (identity.staff_id, identity.clinic_id, identity.role) == ("staff-1", "cl_00000000000000aa", Role.CLINICIAN)


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_other"},
        {"aud": "another-client"},
        {"token_use": "access"},
        {"exp": int((NOW - timedelta(seconds=1)).timestamp())},
        {"exp": None},
        {"custom:role": "owner"},
        {"custom:clinic_id": None},
    ],
    ids=["issuer", "audience", "token_use", "expired", "no-expiry", "unknown-role", "no-clinic"],
)
def test_a_token_failing_one_check_is_refused(pool: Pool, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        JwksVerifier(pool.jwks, ISSUER, CLIENT).verify(pool.token(**changes), NOW)


def test_a_token_signed_by_another_key_or_with_hmac_is_refused(pool: Pool) -> None:
    verifier = JwksVerifier(pool.jwks, ISSUER, CLIENT)
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # claims our key's id
    with pytest.raises(InvalidToken):
        verifier.verify(pool.token(key=stranger), NOW)
    # Only RS256 is accepted: an HMAC-signed token under our key id is refused, whatever its secret.
    hmac_key = OctKey.import_key(b"s" * 32, parameters={"kid": "k1"})
    with pytest.raises(InvalidToken):
        verifier.verify(pool.token(key=hmac_key, alg="HS256"), NOW)
    with pytest.raises(InvalidToken):
        verifier.verify("not.a.token", NOW)


def test_keys_are_read_once_and_again_only_for_a_new_key_id(pool: Pool) -> None:
    verifier = JwksVerifier(pool.jwks, ISSUER, CLIENT)
    for _ in range(3):
        verifier.verify(pool.token(), NOW)
    assert pool.reads == 1
    pool.rotate()
    assert verifier.verify(pool.token(), NOW).staff_id == "staff-1"
    assert pool.reads == 2
