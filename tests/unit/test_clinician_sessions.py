"""The clinician's chat link and session: a ticket works once, and a session lasts only while the clinic's
API key it was asked for with is usable. On fakes, time passed in through the fake clock."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from chalicelib.domain.errors import NotFound, Unauthenticated
from chalicelib.domain.sessions import ClinicianClaims, new_ticket_id
from chalicelib.services import accounts, clinician_sessions, visits
from chalicelib.services.deps import Deps
from tests import patient_data
from tests.fakes import FakeClock, InMemorySingleUse


@pytest.fixture
def setup(deps: Deps) -> tuple[str, str, str]:
    """(clinic id, key id, visit id)."""
    clinic, issued = accounts.create_clinic("Kliniken Väst", deps)
    visit = visits.create_visit(visits.clinician(clinic.clinic_id, "dr.berg"), patient_data.EMAILS[0], deps)
    return clinic.clinic_id, issued.key.key_id, visit.visit_id


def ticket(deps: Deps, setup: tuple[str, str, str]) -> ClinicianClaims:
    clinic_id, key_id, visit_id = setup
    claims, _ = clinician_sessions.chat_ticket(visits.clinician(clinic_id, "dr.berg"), visit_id, key_id, deps)
    return claims


def test_a_ticket_names_the_visit_the_clinician_the_key_and_a_random_id(
    deps: Deps, clock: FakeClock, setup: tuple[str, str, str]
) -> None:
    clinic_id, key_id, visit_id = setup
    claims, expires_at = clinician_sessions.chat_ticket(visits.clinician(clinic_id, "dr.berg"), visit_id, key_id, deps)
    assert (claims.clinic_id, claims.visit_id, claims.clinician, claims.key_id) == (
        clinic_id,
        visit_id,
        "dr.berg",
        key_id,
    )
    assert expires_at == clock.now() + timedelta(minutes=5)
    assert ticket(deps, setup).ticket_id != claims.ticket_id
    assert ClinicianClaims.from_claims(claims.to_claims()) == claims


def test_ticket_ids_carry_at_least_128_random_bits() -> None:
    ids = {new_ticket_id() for _ in range(1000)}
    assert len(ids) == 1000
    for ticket_id in list(ids)[:20]:
        assert len(base64.urlsafe_b64decode(ticket_id + "==")) * 8 >= 128


def test_a_ticket_is_for_a_visit_of_the_clinic_only(deps: Deps, setup: tuple[str, str, str]) -> None:
    visit_id = setup[2]
    stranger, stranger_key = accounts.create_clinic("Kliniken Öst", deps)
    with pytest.raises(NotFound):
        clinician_sessions.chat_ticket(
            visits.clinician(stranger.clinic_id, "dr.x"), visit_id, stranger_key.key.key_id, deps
        )


def test_a_ticket_opens_a_session_once_and_its_use_is_kept_past_its_expiry(
    deps: Deps, clock: FakeClock, setup: tuple[str, str, str]
) -> None:
    claims = ticket(deps, setup)
    actor = clinician_sessions.redeem(claims, deps)
    assert (actor.clinic_id, actor.visit_id, actor.clinician) == (claims.clinic_id, claims.visit_id, "dr.berg")
    with pytest.raises(Unauthenticated):
        clinician_sessions.redeem(claims, deps)
    clock.advance(days=1)
    with pytest.raises(Unauthenticated):
        clinician_sessions.redeem(claims, deps)
    assert isinstance(deps.single_use, InMemorySingleUse)
    kept_until = deps.single_use.uses[f"clinician-ticket:{claims.ticket_id}"]
    assert kept_until == clock.now() - timedelta(days=1) + timedelta(minutes=10)  # 5 past the latest expiry


def test_a_session_ends_when_its_key_is_revoked_and_only_then(
    deps: Deps, clock: FakeClock, setup: tuple[str, str, str]
) -> None:
    clinic_id, key_id, _ = setup
    claims = ticket(deps, setup)
    clinician_sessions.redeem(claims, deps)
    other = accounts.create_key(clinic_id, deps)
    accounts.revoke_key(other.key.key_id, deps)
    assert clinician_sessions.session_actor(claims, deps).clinician == "dr.berg"  # another key: no matter
    clock.advance(minutes=1)
    accounts.revoke_key(key_id, deps)
    with pytest.raises(Unauthenticated):
        clinician_sessions.session_actor(claims, deps)
    with pytest.raises(Unauthenticated):
        clinician_sessions.redeem(ticket(deps, setup), deps)  # a ticket asked for before the revocation


@pytest.mark.parametrize("key", ["another clinic's", "unknown"])
def test_a_session_whose_key_is_not_the_clinics_is_refused(deps: Deps, setup: tuple[str, str, str], key: str) -> None:
    claims = ticket(deps, setup)
    stranger = accounts.create_clinic("Kliniken Öst", deps)[1].key.key_id
    key_id = "0123456789abcdef" if key == "unknown" else stranger
    forged = ClinicianClaims(claims.clinic_id, claims.visit_id, claims.clinician, key_id, claims.ticket_id)
    with pytest.raises(Unauthenticated):
        clinician_sessions.session_actor(forged, deps)


def test_claims_without_a_key_are_no_session() -> None:
    older = {"clinic": "cl_1", "visit": "vi_1", "clinician": "dr.berg"}  # cookies made before keys were bound
    with pytest.raises(Unauthenticated):
        ClinicianClaims.from_claims(older)
