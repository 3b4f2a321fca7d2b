"""Use cases of clinic accounts: create clinics and keys, revoke keys, authenticate a request."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.domain.accounts import (
    Clinic,
    InvalidLinkCode,
    IssuedKey,
    SendingQuotaExceeded,
    clinic_name,
    daily_message_limit,
    issue_key,
    new_clinic_id,
    parse_presented_key,
    sending_day,
)
from chalicelib.domain.contacts import check_country
from chalicelib.domain.errors import Forbidden, NotFound, Unauthenticated
from chalicelib.services.deps import Deps
from chalicelib.services.versioned import update


@dataclass(frozen=True)
class Principal:
    """Who is calling: the clinic and the key it used."""

    clinic_id: str
    key_id: str


def create_clinic(name: str, deps: Deps) -> tuple[Clinic, IssuedKey]:
    """Create a clinic with a first API key."""
    clinic = Clinic(clinic_id=new_clinic_id(), name=clinic_name(name), created_at=deps.clock.now())
    deps.clinics.add(clinic)
    return clinic, create_key(clinic.clinic_id, deps)


def rename_clinic(clinic_id: str, name: str, deps: Deps) -> Clinic:
    """Change the name patients see for the clinic."""
    named = clinic_name(name)
    return update(deps.clinics, clinic_id, lambda clinic: replace(clinic, name=named))


def create_key(clinic_id: str, deps: Deps) -> IssuedKey:
    """Issue another API key for an existing clinic (e.g. to rotate keys)."""
    deps.clinics.get(clinic_id)
    issued = issue_key(clinic_id, deps.clock.now())
    deps.api_keys.add(issued.key)
    return issued


def revoke_key(key_id: str, deps: Deps) -> None:
    """Revoke a key at once; requests with it are refused from now on."""
    key = deps.api_keys.get(key_id)
    deps.api_keys.save(key.revoke(deps.clock.now()))


def authenticate(authorization: str, deps: Deps) -> Principal:
    """Resolve an ``Authorization`` header to the calling clinic.

    Raises Unauthenticated for a malformed or unknown key and Forbidden for a revoked one.
    """
    presented = parse_presented_key(authorization)
    try:
        key = deps.api_keys.get(presented.key_id)
    except NotFound as err:
        raise Unauthenticated("The API key is not valid") from err
    key.ensure_usable(presented.secret)
    try:
        deps.clinics.get(key.clinic_id)
    except NotFound as err:
        raise Forbidden("The API key's clinic no longer exists") from err
    return Principal(clinic_id=key.clinic_id, key_id=key.key_id)


@dataclass(frozen=True)
class SettingsChange:
    """The clinic settings a request changes (None: leave as is; ``clear_link_code``: remove the code)."""

    link_code: str | None = None
    clear_link_code: bool = False
    link_lifetime_days: int | None = None
    language: str | None = None
    sms_country: str | None = None
    daily_message_limit: int | None = None


MIN_LINK_CODE, MAX_LINK_CODE = 4, 32


def update_settings(clinic_id: str, change: SettingsChange, deps: Deps) -> Clinic:
    """Change the clinic's link settings.

    A new Patient Link Code applies to links sent from now on (each link keeps the code it was sent
    with); removing the code removes the need for it on every existing link.
    """
    from chalicelib.domain.links import hash_secret
    from chalicelib.domain.shares import language, lifetime

    code_hash: str | None = None
    if change.link_code is not None and not change.clear_link_code:
        code = change.link_code.strip()
        if not MIN_LINK_CODE <= len(code) <= MAX_LINK_CODE:
            raise InvalidLinkCode(f"The link code must be {MIN_LINK_CODE} to {MAX_LINK_CODE} characters")
        code_hash = hash_secret(code)  # once: scrypt is slow, and a retried write keeps the same hash

    def changed(clinic: Clinic) -> Clinic:
        if change.clear_link_code:
            clinic = replace(clinic, link_code_hash=None)
        elif code_hash is not None:
            clinic = replace(clinic, link_code_hash=code_hash)
        if change.link_lifetime_days is not None:
            days = lifetime(change.link_lifetime_days, clinic.link_lifetime_days).days
            clinic = replace(clinic, link_lifetime_days=days)
        if change.language is not None:
            clinic = replace(clinic, language=language(change.language, clinic.language))
        if change.sms_country is not None:
            clinic = replace(clinic, country=check_country(change.sms_country))
        if change.daily_message_limit is not None:
            clinic = replace(clinic, daily_message_limit=daily_message_limit(change.daily_message_limit))
        return clinic

    return update(deps.clinics, clinic_id, changed)


def reserve_messages(clinic: Clinic, messages: int, deps: Deps) -> None:
    """Count e-mails and texts about to be sent toward the clinic's daily quota, before any is sent.

    Raises SendingQuotaExceeded (429) when they do not fit in what is left of today's quota. A message
    counts once, when it is asked for: the delivery worker's retries of it are not counted again.
    """
    if messages <= 0:
        return
    now = deps.clock.now()
    if not deps.sending.reserve(clinic.clinic_id, sending_day(now), messages, clinic.daily_message_limit):
        from chalicelib.observability import count, logger

        count("SendingQuotaExceeded")
        logger.warning("sending quota reached", extra={"clinic_id": clinic.clinic_id})
        raise SendingQuotaExceeded(clinic.daily_message_limit, now)
