"""A chat page session opened from the console: bound to the member, not to an API key (on fakes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.errors import NotFound, Unauthenticated
from chalicelib.domain.sessions import ClinicianClaims
from chalicelib.domain.staff import Role, StaffIdentity
from chalicelib.services import accounts, clinician_sessions, staff, visits
from chalicelib.services.deps import Deps
from tests import patient_data
from tests.fakes import FakeStaffDirectory


@pytest.fixture
def member(deps: Deps) -> StaffIdentity:
    clinic, _ = accounts.create_clinic("Kliniken Väst", deps)
    made = staff.invite(clinic.clinic_id, "anna@klinik.example", Role.CLINICIAN, deps, temporary_password="x")
    return StaffIdentity(made.staff_id, made.email, made.clinic_id, made.role)


def a_visit(deps: Deps, clinic_id: str) -> str:
    return visits.create_visit(visits.clinician(clinic_id, "dr.berg"), patient_data.EMAILS[0], deps).visit_id


def test_the_session_names_the_member_and_no_key_and_round_trips(deps: Deps, member: StaffIdentity) -> None:
    visit_id = a_visit(deps, member.clinic_id)
    claims = clinician_sessions.member_session(member, visit_id, deps)
    assert (claims.staff_id, claims.clinician, claims.key_id) == (member.staff_id, member.staff_id, "")
    assert ClinicianClaims.from_claims(claims.to_claims()) == claims
    actor = clinician_sessions.session_actor(claims, deps)
    assert (actor.clinic_id, actor.clinician, actor.visit_id) == (member.clinic_id, member.staff_id, visit_id)


def test_another_clinics_visit_gets_no_session(deps: Deps, member: StaffIdentity) -> None:
    other, _ = accounts.create_clinic("Kliniken Öst", deps)
    with pytest.raises(NotFound):
        clinician_sessions.member_session(member, a_visit(deps, other.clinic_id), deps)


def test_a_member_disabled_or_moved_ends_the_session(deps: Deps, member: StaffIdentity) -> None:
    claims = clinician_sessions.member_session(member, a_visit(deps, member.clinic_id), deps)
    assert isinstance(deps.staff, FakeStaffDirectory)
    moved = replace(deps.staff.members_by_id[member.staff_id], clinic_id="cl_00000000000000ff")
    deps.staff.members_by_id[member.staff_id] = moved
    with pytest.raises(Unauthenticated):
        clinician_sessions.session_actor(claims, deps)
    deps.staff.members_by_id[member.staff_id] = replace(moved, clinic_id=member.clinic_id)
    clinician_sessions.session_actor(claims, deps)
    staff.set_enabled(member.clinic_id, member.staff_id, False, deps)
    with pytest.raises(Unauthenticated):
        clinician_sessions.session_actor(claims, deps)


def test_claims_bound_to_neither_a_key_nor_a_member_are_no_session(deps: Deps, member: StaffIdentity) -> None:
    claims = clinician_sessions.member_session(member, a_visit(deps, member.clinic_id), deps)
    unbound = {k: v for k, v in claims.to_claims().items() if k != "staff"}
    with pytest.raises(Unauthenticated):
        ClinicianClaims.from_claims(unbound)
