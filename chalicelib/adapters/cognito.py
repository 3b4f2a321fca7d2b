"""Staff accounts and sign-in on Amazon Cognito (boto3 cognito-idp): the ``StaffDirectory`` port.

Each member's clinic and role are custom attributes the console's client may read but not write. The
member's id is Cognito's ``sub``, which is also the username when e-mail addresses sign in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import resources
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.staff import (
    Challenge,
    ChallengeName,
    InvalidToken,
    Role,
    SignInFailed,
    SignInStep,
    StaffExists,
    StaffIdentity,
    StaffMember,
    Tokens,
    TotpAlreadyOn,
    TotpSetup,
    WrongTotpCode,
)
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.adapters.cognito_tokens import JwksVerifier

_SIGN_IN_REFUSALS = {
    "NotAuthorizedException",
    "UserNotFoundException",
    "CodeMismatchException",
    "ExpiredCodeException",
    "UserNotConfirmedException",
    "PasswordResetRequiredException",
}
#: How the member's authenticator app is named in their account.
TOTP_DEVICE_NAME = "patient-share console"
_CHALLENGE_ANSWER = {ChallengeName.NEW_PASSWORD: "NEW_PASSWORD", ChallengeName.TOTP: "SOFTWARE_TOKEN_MFA_CODE"}


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


class CognitoStaffDirectory:
    """``StaffDirectory`` on a Cognito user pool."""

    def __init__(self, make_client: Callable[[], Any], cfg: Settings) -> None:
        self._make_client = make_client
        self._client: Any = None
        self._cfg = cfg
        self._ids: tuple[str, str] | None = None
        self._verifier: JwksVerifier | None = None
        self._lock = threading.Lock()

    @property
    def _cognito(self) -> Any:
        # Made on first use: most invocations of the API never touch staff accounts.
        if self._client is None:
            self._client = self._make_client()
        return self._client

    # The pool and client ids: from infra/ in AWS; on the local stack moto picks them, so find them by name.
    def _pool(self) -> tuple[str, str]:
        if self._ids is None:
            pool_id, client_id = self._cfg.staff_pool_ids()
            if not pool_id:
                pool_id, client_id = self._find_local_pool()
            self._ids = (pool_id, client_id)
        return self._ids

    def _find_local_pool(self) -> tuple[str, str]:
        name = resources.STAFF_POOL.name(self._cfg)
        pools = [p["Id"] for p in self._cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name]
        if not pools:
            raise NotFound("No staff user pool: run the local stack's create_all")
        clients = self._cognito.list_user_pool_clients(UserPoolId=pools[0], MaxResults=60)["UserPoolClients"]
        return pools[0], clients[0]["ClientId"]

    def invite(self, email: str, clinic_id: str, role: Role, temporary_password: str | None = None) -> StaffMember:
        """Create the account; Cognito e-mails the invitation unless a temporary password is given (local use)."""
        pool_id, _ = self._pool()
        extra: dict[str, Any] = {}
        if temporary_password is not None:
            extra = {"TemporaryPassword": temporary_password, "MessageAction": "SUPPRESS"}
        try:
            user = self._cognito.admin_create_user(
                UserPoolId=pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "custom:clinic_id", "Value": clinic_id},
                    {"Name": "custom:role", "Value": role.value},
                ],
                DesiredDeliveryMediums=["EMAIL"],
                **extra,
            )["User"]
        except ClientError as err:
            if _code(err) in {"UsernameExistsException", "AliasExistsException"}:
                raise StaffExists("A staff member with this e-mail address exists") from err
            if _code(err) in {"InvalidParameterException", "InvalidPasswordException"}:
                raise InvalidInput("The e-mail address or temporary password is not accepted") from err
            raise
        return _member(user, "Attributes")

    def members(self, clinic_id: str) -> list[StaffMember]:
        """Cognito cannot filter on custom attributes, so this pages through the pool; a staff pool is small."""
        pool_id, _ = self._pool()
        found: list[StaffMember] = []
        for page in self._cognito.get_paginator("list_users").paginate(UserPoolId=pool_id):
            found += [m for m in (_member(u, "Attributes") for u in page["Users"]) if m.clinic_id == clinic_id]
        return sorted(found, key=lambda m: m.email)

    def get(self, staff_id: str) -> StaffMember:
        pool_id, _ = self._pool()
        try:
            return _member(self._cognito.admin_get_user(UserPoolId=pool_id, Username=staff_id), "UserAttributes")
        except ClientError as err:
            if _code(err) == "UserNotFoundException":
                raise NotFound("No such staff member") from err
            raise

    def set_password(self, staff_id: str, password: str) -> None:
        pool_id, _ = self._pool()
        try:
            self._cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=staff_id, Password=password, Permanent=True
            )
        except ClientError as err:
            if _code(err) == "UserNotFoundException":
                raise NotFound("No such staff member") from err
            if _code(err) == "InvalidPasswordException":
                raise InvalidInput("The password does not meet the password policy") from err
            raise

    def set_enabled(self, staff_id: str, enabled: bool) -> None:
        pool_id, _ = self._pool()
        try:
            if enabled:
                self._cognito.admin_enable_user(UserPoolId=pool_id, Username=staff_id)
            else:
                self._cognito.admin_disable_user(UserPoolId=pool_id, Username=staff_id)
                self.sign_out(staff_id)
        except ClientError as err:
            if _code(err) == "UserNotFoundException":
                raise NotFound("No such staff member") from err
            raise

    def sign_in(self, email: str, password: str) -> SignInStep:
        _, client_id = self._pool()
        try:
            answer = self._cognito.initiate_auth(
                ClientId=client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        except ClientError as err:
            if _code(err) in _SIGN_IN_REFUSALS:
                raise SignInFailed from err
            raise
        return _step(answer, email)

    def answer(self, challenge: Challenge, response: str) -> SignInStep:
        _, client_id = self._pool()
        try:
            answer = self._cognito.respond_to_auth_challenge(
                ClientId=client_id,
                ChallengeName=challenge.name.value,
                Session=challenge.session,
                ChallengeResponses={"USERNAME": challenge.username, _CHALLENGE_ANSWER[challenge.name]: response},
            )
        except ClientError as err:
            if _code(err) == "InvalidPasswordException":
                raise InvalidInput("The new password does not meet the password policy") from err
            # moto answers an unknown session with ResourceNotFound, Cognito with NotAuthorized
            if _code(err) in _SIGN_IN_REFUSALS | {"ResourceNotFoundException"}:
                raise SignInFailed from err
            raise
        return _step(answer, challenge.username)

    def verify(self, id_token: str, now: datetime) -> StaffIdentity:
        return self._token_verifier().verify(id_token, now)

    def refresh(self, refresh_token: str) -> Tokens:
        _, client_id = self._pool()
        try:
            result = self._cognito.initiate_auth(
                ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
            )["AuthenticationResult"]
        except ClientError as err:
            if _code(err) in _SIGN_IN_REFUSALS:
                raise InvalidToken("refresh token revoked or expired") from err
            raise
        return Tokens(result["IdToken"], result["AccessToken"], result.get("RefreshToken", refresh_token))

    def sign_out(self, staff_id: str) -> None:
        """AdminUserGlobalSignOut: the console's session holds no Cognito token to revoke one by one (and moto
        has no RevokeToken), so every refresh token of the member is revoked."""
        pool_id, _ = self._pool()
        try:
            self._cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username=staff_id)
        except ClientError as err:
            if _code(err) == "UserNotFoundException":
                raise NotFound("No such staff member") from err
            raise

    def start_totp(self, email: str, password: str) -> TotpSetup:
        """A fresh sign-in with the password (its access token), then AssociateSoftwareToken for the secret."""
        step = self.sign_in(email, password)
        if isinstance(step, Challenge):
            if step.name is ChallengeName.TOTP:
                raise TotpAlreadyOn
            raise SignInFailed  # a new password is due first: the member signs in again and chooses it
        try:
            secret = self._cognito.associate_software_token(AccessToken=step.access_token)["SecretCode"]
        except ClientError as err:
            if _code(err) in _SIGN_IN_REFUSALS:
                raise SignInFailed from err
            raise
        return TotpSetup(step.access_token, secret)

    def confirm_totp(self, staff_id: str, setup: TotpSetup, code: str) -> None:
        """VerifySoftwareToken with the app's code, then AdminSetUserMFAPreference: TOTP on and preferred."""
        pool_id, _ = self._pool()
        try:
            self._cognito.verify_software_token(
                AccessToken=setup.access_token, UserCode=code, FriendlyDeviceName=TOTP_DEVICE_NAME
            )
        except ClientError as err:
            if _code(err) in {"CodeMismatchException", "EnableSoftwareTokenMFAException", "InvalidParameterException"}:
                raise WrongTotpCode from err
            if _code(err) in _SIGN_IN_REFUSALS | {"ResourceNotFoundException"}:
                raise SignInFailed from err
            raise
        try:
            self._cognito.admin_set_user_mfa_preference(
                UserPoolId=pool_id,
                Username=staff_id,
                SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
            )
        except ClientError as err:
            if _code(err) == "UserNotFoundException":
                raise NotFound("No such staff member") from err
            raise

    def _token_verifier(self) -> JwksVerifier:
        # The JOSE library (and the HTTP client for the pool's keys) load here, on the first sign-in of a
        # process, never at cold start.
        with self._lock:
            if self._verifier is None:
                from chalicelib.adapters.cognito_tokens import JwksVerifier, fetch_jwks

                pool_id, client_id = self._pool()
                issuer = f"https://cognito-idp.{self._cfg.region}.amazonaws.com/{pool_id}"
                self._verifier = JwksVerifier(
                    lambda: fetch_jwks(issuer, pool_id, self._cfg.endpoint_url, self._cfg.region), issuer, client_id
                )
        return self._verifier


def _attributes(user: dict[str, Any], key: str) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user.get(key, [])}


def _member(user: dict[str, Any], key: str) -> StaffMember:
    attributes = _attributes(user, key)
    return StaffMember(
        staff_id=attributes.get("sub", user["Username"]),
        email=attributes.get("email", ""),
        clinic_id=attributes.get("custom:clinic_id", ""),
        role=Role(attributes.get("custom:role", Role.CLINICIAN.value)),
        enabled=bool(user.get("Enabled", True)),
        status=str(user.get("UserStatus", "")),
        totp="SOFTWARE_TOKEN_MFA" in user.get("UserMFASettingList", []),
    )


def _step(answer: dict[str, Any], username: str) -> SignInStep:
    if "AuthenticationResult" in answer:
        result = answer["AuthenticationResult"]
        return Tokens(result["IdToken"], result["AccessToken"], result["RefreshToken"])
    try:
        name = ChallengeName(answer.get("ChallengeName", ""))
    except ValueError:
        raise SignInFailed from None  # a challenge this console does not offer (SMS MFA, …)
    return Challenge(name, answer.get("ChallengeParameters", {}).get("USERNAME", username), answer["Session"])
