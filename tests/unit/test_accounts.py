from __future__ import annotations

import pytest

from chalicelib.domain.accounts import hash_secret, issue_key, parse_presented_key
from chalicelib.domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from tests.fakes import FakeClock


def test_a_key_carries_at_least_128_random_bits_and_is_stored_only_as_a_hash(clock: FakeClock) -> None:
    issued = issue_key("cl_1", clock.now())
    presented = parse_presented_key(f"Bearer {issued.plain_text}")
    assert len(presented.secret) * 6 >= 256  # url-safe base64: 6 bits a character
    assert presented.secret not in repr(issued.key)
    assert issued.key.secret_hash == hash_secret(presented.secret)
    assert issue_key("cl_1", clock.now()).plain_text != issued.plain_text


def test_create_clinic_gives_a_key_that_authenticates_as_that_clinic(deps: Deps) -> None:
    clinic, issued = accounts.create_clinic("  Kliniken   Väst ", deps)
    assert clinic.name == "Kliniken Väst"
    principal = accounts.authenticate(f"Bearer {issued.plain_text}", deps)
    assert principal.clinic_id == clinic.clinic_id
    assert principal.key_id == issued.key.key_id


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_clinic_names_must_be_sensible(deps: Deps, name: str) -> None:
    with pytest.raises(InvalidInput):
        accounts.create_clinic(name, deps)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Basic abc",
        "Bearer psk_short_secret",
        "Bearer xyz_0123456789abcdef_secret",
        "psk_0123456789abcdef_x",
    ],
)
def test_malformed_authorization_is_unauthenticated(deps: Deps, header: str) -> None:
    with pytest.raises(Unauthenticated):
        accounts.authenticate(header, deps)


def test_a_wrong_secret_for_a_real_key_id_is_unauthenticated(deps: Deps) -> None:
    _, issued = accounts.create_clinic("Kliniken", deps)
    tampered = issued.plain_text[:-4] + ("AAAA" if not issued.plain_text.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated):
        accounts.authenticate(f"Bearer {tampered}", deps)


def test_an_unknown_key_is_unauthenticated(deps: Deps) -> None:
    with pytest.raises(Unauthenticated):
        accounts.authenticate("Bearer psk_0123456789abcdef_" + "A" * 43, deps)


def test_a_revoked_key_is_forbidden_at_once_and_other_keys_keep_working(deps: Deps, clock: FakeClock) -> None:
    clinic, first = accounts.create_clinic("Kliniken", deps)
    second = accounts.create_key(clinic.clinic_id, deps)
    clock.advance(minutes=1)
    accounts.revoke_key(first.key.key_id, deps)
    with pytest.raises(Forbidden):
        accounts.authenticate(f"Bearer {first.plain_text}", deps)
    assert accounts.authenticate(f"Bearer {second.plain_text}", deps).clinic_id == clinic.clinic_id
    assert deps.api_keys.get(first.key.key_id).revoked_at == clock.now()


def test_revoking_twice_keeps_the_first_time(deps: Deps, clock: FakeClock) -> None:
    _, issued = accounts.create_clinic("Kliniken", deps)
    accounts.revoke_key(issued.key.key_id, deps)
    first_time = clock.now()
    clock.advance(hours=1)
    accounts.revoke_key(issued.key.key_id, deps)
    assert deps.api_keys.get(issued.key.key_id).revoked_at == first_time


def test_keys_for_unknown_clinics_or_unknown_keys_are_not_found(deps: Deps) -> None:
    with pytest.raises(NotFound):
        accounts.create_key("cl_0000000000000000", deps)
    with pytest.raises(NotFound):
        accounts.revoke_key("0123456789abcdef", deps)


def test_rename_clinic(deps: Deps) -> None:
    clinic, _ = accounts.create_clinic("Old", deps)
    assert accounts.rename_clinic(clinic.clinic_id, "New  name", deps).name == "New name"
    assert deps.clinics.get(clinic.clinic_id).name == "New name"
