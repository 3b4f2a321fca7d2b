"""The in-memory repositories and the DynamoDB ones pass the same checks (on moto)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.accounts import Clinic, issue_key
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.services.deps import Deps
from tests.fakes import FakeClock

pytestmark = pytest.mark.contract


def test_clinics_round_trip_and_conflict(real_or_fake: Deps) -> None:
    clinic = Clinic("cl_00000000000000aa", "Kliniken Öst", FakeClock().now())
    real_or_fake.clinics.add(clinic)
    assert real_or_fake.clinics.get(clinic.clinic_id) == clinic
    with pytest.raises(Conflict):
        real_or_fake.clinics.add(clinic)
    assert clinic.country == "SE"
    renamed = replace(
        clinic, name="Kliniken Väst", country="NO", link_code_hash="scrypt$a$b", link_lifetime_days=30, language="en"
    )
    real_or_fake.clinics.save(renamed)
    assert real_or_fake.clinics.get(clinic.clinic_id) == renamed


def test_missing_clinics(real_or_fake: Deps) -> None:
    with pytest.raises(NotFound):
        real_or_fake.clinics.get("cl_missing")
    with pytest.raises(NotFound):
        real_or_fake.clinics.save(Clinic("cl_missing", "x", FakeClock().now()))


def test_api_keys_round_trip_revoke_and_conflict(real_or_fake: Deps) -> None:
    clock = FakeClock()
    key = issue_key("cl_00000000000000aa", clock.now()).key
    real_or_fake.api_keys.add(key)
    assert real_or_fake.api_keys.get(key.key_id) == key
    with pytest.raises(Conflict):
        real_or_fake.api_keys.add(key)
    revoked = key.revoke(clock.advance(minutes=5))
    real_or_fake.api_keys.save(revoked)
    assert real_or_fake.api_keys.get(key.key_id) == revoked


def test_missing_api_keys(real_or_fake: Deps) -> None:
    key = issue_key("cl_00000000000000aa", FakeClock().now()).key
    with pytest.raises(NotFound):
        real_or_fake.api_keys.get(key.key_id)
    with pytest.raises(NotFound):
        real_or_fake.api_keys.save(key)
