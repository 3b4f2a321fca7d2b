"""The in-memory repositories and the DynamoDB ones pass the same checks (on moto)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date

import pytest

from chalicelib.domain.accounts import Clinic, issue_key
from chalicelib.domain.errors import Conflict, NotFound, StaleWrite
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
        clinic,
        name="Kliniken Väst",
        country="NO",
        link_code_hash="scrypt$a$b",
        link_lifetime_days=30,
        language="en",
        daily_message_limit=40,
    )
    assert real_or_fake.clinics.save(renamed) == replace(renamed, version=1)
    assert real_or_fake.clinics.get(clinic.clinic_id) == replace(renamed, version=1)
    with pytest.raises(StaleWrite):  # a save from the read before that one
        real_or_fake.clinics.save(replace(renamed, name="Kliniken Syd"))
    assert real_or_fake.clinics.get(clinic.clinic_id).name == "Kliniken Väst"


def test_two_administrators_changing_settings_at_once_both_count(real_or_fake: Deps, whole_requests: None) -> None:
    from chalicelib.services.accounts import SettingsChange, update_settings

    clinic = Clinic("cl_00000000000000ab", "Kliniken Öst", FakeClock().now())
    real_or_fake.clinics.add(clinic)
    changes = [SettingsChange(link_lifetime_days=30), SettingsChange(language="en"), SettingsChange(sms_country="NO")]
    changes += [SettingsChange(daily_message_limit=40)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda change: update_settings(clinic.clinic_id, change, real_or_fake), changes))
    stored = real_or_fake.clinics.get(clinic.clinic_id)
    assert (stored.link_lifetime_days, stored.language, stored.country, stored.daily_message_limit) == (
        30,
        "en",
        "NO",
        40,
    )
    assert stored.version == 4


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


def test_the_sending_counter_never_passes_the_limit(real_or_fake: Deps) -> None:
    day, other_day = date(2026, 11, 23), date(2026, 11, 24)
    counter = real_or_fake.sending
    assert counter.reserve("cl_1", day, 3, 5)
    assert not counter.reserve("cl_1", day, 3, 5)  # 6 > 5: nothing is counted
    assert counter.reserve("cl_1", day, 2, 5)
    assert not counter.reserve("cl_1", day, 1, 5)
    assert counter.sent("cl_1", day) == 5
    assert counter.reserve("cl_1", other_day, 5, 5)  # a new day, a new count
    assert counter.reserve("cl_2", day, 1, 5)  # and each clinic its own
    assert not counter.reserve("cl_3", day, 6, 5)
    assert counter.sent("cl_3", day) == 0


def test_requests_side_by_side_share_the_quota_exactly(real_or_fake: Deps, whole_requests: None) -> None:
    day = date(2026, 11, 23)
    with ThreadPoolExecutor(max_workers=20) as pool:
        granted = list(pool.map(lambda _: real_or_fake.sending.reserve("cl_1", day, 1, 10), range(20)))
    assert granted.count(True) == 10
    assert real_or_fake.sending.sent("cl_1", day) == 10
