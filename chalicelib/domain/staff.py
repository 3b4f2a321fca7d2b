"""Clinic staff: who may use the console, for which clinic, in which role.

The accounts themselves live in the identity provider (Amazon Cognito); these are the facts the
service reads from it. The staff id is the provider's immutable subject (``sub``), never the e-mail,
which a member may change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, Unauthenticated


class Role(StrEnum):
    """What a staff member may do in the console."""

    ADMIN = "admin"
    """Everything a clinician may, and the clinic's settings and staff."""
    CLINICIAN = "clinician"
    """Studies, shares and visits of the clinic."""


class ChallengeName(StrEnum):
    """The steps the identity provider may ask for before it signs a member in."""

    NEW_PASSWORD = "NEW_PASSWORD_REQUIRED"  # noqa: S105 (a challenge name, not a password)
    """First sign-in with the temporary password of the invitation: choose a permanent one."""
    TOTP = "SOFTWARE_TOKEN_MFA"
    """The member has TOTP enabled: the 6-digit code from the authenticator app."""


@dataclass(frozen=True)
class StaffMember:
    """A staff account as the identity provider holds it."""

    staff_id: str
    email: str
    clinic_id: str
    role: Role
    enabled: bool
    status: str
    """The provider's account status, e.g. ``FORCE_CHANGE_PASSWORD`` until the first sign-in."""
    totp: bool = False
    """Whether sign-in asks for a TOTP code. Known when the member is read one by one (``get``): Cognito's
    list of users does not say."""


@dataclass(frozen=True)
class StaffIdentity:
    """Who a verified ID token says the caller is."""

    staff_id: str
    email: str
    clinic_id: str
    role: Role


@dataclass(frozen=True)
class Tokens:
    """What a completed sign-in returns; the refresh token is what sign-out revokes."""

    id_token: str
    access_token: str
    refresh_token: str


@dataclass(frozen=True)
class Challenge:
    """A step the provider asks for before it issues tokens; ``session`` ties the answer to this sign-in."""

    name: ChallengeName
    username: str
    """The provider's name for the member (in Cognito the ``sub``), which the answer must repeat."""
    session: str


SignInStep = Tokens | Challenge

#: The name authenticator apps show above the member's e-mail address.
TOTP_ISSUER = "patient-share"


@dataclass(frozen=True)
class TotpSetup:
    """An authenticator app being set up: the shared secret to show the member, and the access token of the
    sign-in that asked for it, which the confirmation must present (it is a credential: never shown)."""

    access_token: str
    secret: str
    """Base32, as the provider gives it."""

    def uri(self, email: str) -> str:
        """The Key Uri Format an authenticator app reads from the QR code: the issuer, the account, the secret."""
        from urllib.parse import quote

        issuer = quote(TOTP_ISSUER, safe="")
        return f"otpauth://totp/{issuer}:{quote(email, safe='@')}?secret={self.bare_secret}&issuer={issuer}"

    @property
    def bare_secret(self) -> str:
        """The secret without padding or spaces, in capitals: what the Key Uri Format asks for."""
        return "".join(self.secret.split()).rstrip("=").upper()

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four characters, for typing it into an app by hand."""
        bare = self.bare_secret
        return " ".join(bare[i : i + 4] for i in range(0, len(bare), 4))


class InvalidRole(InvalidInput):
    """A role that is not one of ``Role``."""

    public_code = "InvalidInput"


class InvalidStaffEmail(InvalidInput):
    """A staff member's e-mail address that is not one."""

    public_code = "InvalidInput"


class StaffExists(Conflict):
    """A staff member with this e-mail address exists already."""

    public_code = "Conflict"


class OwnAccount(Conflict):
    """An administrator may not disable or enable themselves (a clinic must not lose its last one by a slip)."""

    public_code = "Conflict"


class TotpAlreadyOn(Conflict):
    """The member's sign-in already asks for a TOTP code: set-up would replace the app they use."""

    def __init__(self) -> None:
        super().__init__("Two-step sign-in is already on")


class WrongTotpCode(InvalidInput):
    """The code typed is not the one the authenticator app shows for the secret being set up."""

    def __init__(self) -> None:
        super().__init__("The code does not match; check the app's clock and try the newest code")


class SignInFailed(Unauthenticated):
    """Wrong e-mail, password or code, or a disabled account: the caller is not told which."""

    def __init__(self) -> None:
        super().__init__("Wrong e-mail address, password or code")


class InvalidToken(Unauthenticated):
    """A token that is not one our pool issued to our client for signing in, or has expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid token: {reason}")


def parse_role(value: str) -> Role:
    """A role by its name; raises InvalidInput naming the allowed ones."""
    try:
        return Role(value)
    except ValueError:
        raise InvalidRole(f"role must be one of {', '.join(r.value for r in Role)}") from None


def staff_email(text: str) -> str:
    """A staff member's e-mail address, normalised and in lower case (it is their sign-in name)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validated = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as err:
        raise InvalidStaffEmail("'email' is not a valid e-mail address") from err
    return str(validated.normalized).lower()


def require_admin(identity: StaffIdentity) -> None:
    """Refuse (Forbidden) what only the clinic's administrators may do: settings and staff."""
    if identity.role is not Role.ADMIN:
        raise Forbidden("Only the clinic's administrators may do this")
