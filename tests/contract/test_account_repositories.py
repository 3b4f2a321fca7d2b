"""The in-memory repositories and the DynamoDB ones pass the same checks (on moto)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from chalicelib import wiring
from chalicelib.domain.accounts import Clinic, issue_key
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.services.deps import Deps
from tests.fakes import FakeClock, fake_deps

pytestmark = pytest.mark.contract


@pytest.fixture(params=["fake", "dynamodb"])
def repos(request: pytest.FixtureRequest) -> Iterator[Deps]:
    if request.param == "fake":
        yield fake_deps()
    else:
        request.getfixturevalue("aws")
        yield wiring.build()


def test_clinics_round_trip_and_conflict(repos: Deps) -> None:
    clinic = Clinic("cl_00000000000000aa", "Kliniken Öst", FakeClock().now())
    repos.clinics.add(clinic)
    assert repos.clinics.get(clinic.clinic_id) == clinic
    with pytest.raises(Conflict):
        repos.clinics.add(clinic)
    renamed = replace(clinic, name="Kliniken Väst")
    repos.clinics.save(renamed)
    assert repos.clinics.get(clinic.clinic_id) == renamed


def test_missing_clinics(repos: Deps) -> None:
    with pytest.raises(NotFound):
        repos.clinics.get("cl_missing")
    with pytest.raises(NotFound):
        repos.clinics.save(Clinic("cl_missing", "x", FakeClock().now()))


def test_api_keys_round_trip_revoke_and_conflict(repos: Deps) -> None:
    clock = FakeClock()
    key = issue_key("cl_00000000000000aa", clock.now()).key
    repos.api_keys.add(key)
    assert repos.api_keys.get(key.key_id) == key
    with pytest.raises(Conflict):
        repos.api_keys.add(key)
    revoked = key.revoke(clock.advance(minutes=5))
    repos.api_keys.save(revoked)
    assert repos.api_keys.get(key.key_id) == revoked


def test_missing_api_keys(repos: Deps) -> None:
    key = issue_key("cl_00000000000000aa", FakeClock().now()).key
    with pytest.raises(NotFound):
        repos.api_keys.get(key.key_id)
    with pytest.raises(NotFound):
        repos.api_keys.save(key)
