"""Use cases of clinic accounts: create clinics and keys, revoke keys, authenticate a request."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.domain.accounts import (
    Clinic,
    IssuedKey,
    clinic_name,
    issue_key,
    new_clinic_id,
    parse_presented_key,
)
from chalicelib.domain.contacts import check_country
from chalicelib.domain.errors import Forbidden, NotFound, Unauthenticated
from chalicelib.services.deps import Deps


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
    clinic = replace(deps.clinics.get(clinic_id), name=clinic_name(name))
    deps.clinics.save(clinic)
    return clinic


def set_country(clinic_id: str, country: str, deps: Deps) -> Clinic:
    """Set the country phone numbers typed without ``+`` are read in (ISO 3166 alpha-2)."""
    clinic = replace(deps.clinics.get(clinic_id), country=check_country(country))
    deps.clinics.save(clinic)
    return clinic


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
