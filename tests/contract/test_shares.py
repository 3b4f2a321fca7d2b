"""The in-memory share repository and job queue pass the same checks as DynamoDB and SQS (on moto)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import boto3
import pytest

from chalicelib import wiring
from chalicelib.domain import links
from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.deliveries import Delivery, DeliveryStatus
from chalicelib.domain.errors import Conflict, NotFound, StaleWrite
from chalicelib.domain.shares import (
    LOCK_DURATION,
    MAX_FAILED_ATTEMPTS,
    AccessEvent,
    AccessKind,
    Attempts,
    LinkLocked,
    Share,
    ShareCursor,
    SharedFile,
    ShareStatus,
)
from chalicelib.services.deps import Deps
from chalicelib.services.ports import SharePage
from chalicelib.services.versioned import update
from chalicelib.settings import settings
from tests import patient_data
from tests.fakes import FakeClock

pytestmark = pytest.mark.contract


def a_share(share_id: str, clock: FakeClock, study: str = "1.2.3", clinic: str = "cl_00000000000000a1") -> Share:
    now = clock.now()
    return Share(
        share_id=share_id,
        clinic_id=clinic,
        study_instance_uid=study,
        sop_instance_uids=("1.2.3.4",),
        deliveries=(
            Delivery(1, Contact(ContactKind.EMAIL, patient_data.EMAILS[0])),
            Delivery(2, Contact(ContactKind.SMS, patient_data.PHONES[0]), DeliveryStatus.SENT, None, 1, now, "m-1"),
        ),
        language="sv",
        token_hash=links.token_hash(links.new_token()),
        token_nonce=links.new_nonce(),
        created_at=now,
        expires_at=now + timedelta(days=90),
    )


def test_shares_round_trip_by_id_token_and_study(real_or_fake: Deps) -> None:
    clock = FakeClock()
    first = a_share("sh_00000000000000000001", clock)
    clock.advance(minutes=1)
    second = a_share("sh_00000000000000000002", clock)
    other_clinic = a_share("sh_00000000000000000003", clock, clinic="cl_00000000000000b2")
    for share in (first, second, other_clinic):
        real_or_fake.shares.add(share)
    assert real_or_fake.shares.get(first.share_id) == first
    assert real_or_fake.shares.by_token_hash(second.token_hash) == second
    assert [s.share_id for s in real_or_fake.shares.for_study(first.clinic_id, "1.2.3")] == [
        second.share_id,
        first.share_id,
    ]
    with pytest.raises(Conflict):
        real_or_fake.shares.add(first)


def test_every_field_survives_a_save(real_or_fake: Deps) -> None:
    clock = FakeClock()
    share = a_share("sh_00000000000000000004", clock)
    real_or_fake.shares.add(share)
    clock.advance(hours=1)
    changed = replace(
        share.with_code(links.hash_secret("1"), clock.now()),
        status=ShareStatus.READY,
        needs_password=True,
        study_date="2026-11-20",
        study_description="US ABDOMEN",
        link_code_hash=links.hash_secret("code"),
        password_hash=links.hash_secret("pw"),
        last_sent_at=clock.now(),
        files=(SharedFile("shares/sh/a.jpg", "a.jpg", "image", "image/jpeg", 10, "1.2.3.4"),),
    )
    stored = real_or_fake.shares.save(changed)
    assert stored == replace(changed, version=1)
    assert real_or_fake.shares.get(share.share_id) == stored
    deleted = real_or_fake.shares.save(stored.deleted(clock.now()))
    assert real_or_fake.shares.get(share.share_id) == deleted
    assert deleted.version == 2


def test_a_save_from_an_outdated_read_is_refused_and_update_redoes_it(real_or_fake: Deps) -> None:
    clock = FakeClock()
    share = a_share("sh_00000000000000000005", clock)
    real_or_fake.shares.add(share)
    # Two requests read the share; the first writes; the second's write would undo the first's.
    patient = real_or_fake.shares.save(replace(share, language="en"))
    with pytest.raises(StaleWrite):
        real_or_fake.shares.save(replace(share, status=ShareStatus.READY))
    assert real_or_fake.shares.get(share.share_id) == patient

    # update() redoes a change on the share as stored when another write came between.
    calls = []

    def ready(current: Share) -> Share:
        calls.append(current.version)
        if len(calls) == 1:  # someone else writes after our read
            real_or_fake.shares.save(replace(current, password_hash="scrypt$x$y"))
        return replace(current, status=ShareStatus.READY)

    done = update(real_or_fake.shares, share.share_id, ready)
    assert calls == [1, 2]
    assert (done.status, done.password_hash, done.version) == (ShareStatus.READY, "scrypt$x$y", 3)
    assert real_or_fake.shares.get(share.share_id) == done


def test_attempts_are_counted_beside_saves_and_lock_on_the_fifth(real_or_fake: Deps) -> None:
    clock = FakeClock()
    share = a_share("sh_00000000000000000006", clock)
    real_or_fake.shares.add(share)
    for taken in range(1, MAX_FAILED_ATTEMPTS):
        assert real_or_fake.shares.take_attempt(share.share_id, clock.now()) == Attempts(taken, None)
    # A save from a read made before those attempts leaves them as they are.
    real_or_fake.shares.save(replace(share, status=ShareStatus.READY))
    assert real_or_fake.shares.get(share.share_id).attempts.count == MAX_FAILED_ATTEMPTS - 1
    locked = real_or_fake.shares.take_attempt(share.share_id, clock.now())
    assert locked == Attempts(MAX_FAILED_ATTEMPTS, clock.now() + LOCK_DURATION)
    with pytest.raises(LinkLocked):
        real_or_fake.shares.take_attempt(share.share_id, clock.advance(minutes=14))
    real_or_fake.shares.clear_attempts(share.share_id, clock.now())  # a right secret: the lock stays
    assert real_or_fake.shares.get(share.share_id).attempts == locked
    clock.advance(minutes=1)
    assert real_or_fake.shares.take_attempt(share.share_id, clock.now()) == Attempts(1, None)
    real_or_fake.shares.take_attempt(share.share_id, clock.now())
    real_or_fake.shares.clear_attempts(share.share_id, clock.now())
    assert real_or_fake.shares.get(share.share_id).attempts == Attempts()
    with pytest.raises(NotFound):
        real_or_fake.shares.take_attempt("sh_missing", clock.now())


def test_missing_shares(real_or_fake: Deps) -> None:
    with pytest.raises(NotFound):
        real_or_fake.shares.get("sh_missing")
    with pytest.raises(NotFound):
        real_or_fake.shares.by_token_hash(links.token_hash("nothing"))
    with pytest.raises(NotFound):
        real_or_fake.shares.save(a_share("sh_00000000000000000009", FakeClock()))


def test_jobs_reach_the_queue(aws: None) -> None:
    deps = wiring.build()
    deps.jobs.send("share", {"share_id": "sh_1"})
    sqs = boto3.client("sqs", region_name=settings().region)
    url = sqs.get_queue_url(QueueName=settings().queue_name("share"))["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"]) == {"share_id": "sh_1"}


def test_access_events_are_kept_per_share_in_time_order(real_or_fake: Deps) -> None:
    clock = FakeClock()
    share = a_share("sh_00000000000000000005", clock)
    kinds = [AccessKind.OPENED, AccessKind.UNLOCK_FAILED, AccessKind.UNLOCKED, AccessKind.DOWNLOADED]
    for kind in kinds:
        real_or_fake.access_log.record(
            AccessEvent(share.share_id, clock.advance(seconds=1), kind, "c" * 16, None), share.expires_at
        )
    real_or_fake.access_log.record(AccessEvent("sh_other", clock.now(), AccessKind.OPENED, "d" * 16), share.expires_at)
    events = real_or_fake.access_log.for_share(share.share_id)
    assert [e.kind for e in events] == kinds
    assert all(e.client == "c" * 16 for e in events)


def test_a_clinics_shares_page_newest_first_and_never_another_clinics(real_or_fake: Deps) -> None:
    clock = FakeClock()
    ours = "cl_00000000000000a1"
    made = []
    for n in range(7):
        made.append(a_share(f"sh_0000000000000000010{n}", clock, study=f"1.2.{n % 3}", clinic=ours))
        real_or_fake.shares.add(a_share(f"sh_0000000000000000020{n}", clock, clinic="cl_00000000000000b2"))
        clock.advance(minutes=1)
    twin = a_share("sh_00000000000000000099", FakeClock(made[3].created_at), clinic=ours)  # made in the same instant
    for share in (*made, twin):
        real_or_fake.shares.add(share)
    newest_first = [s.share_id for s in sorted((*made, twin), key=lambda s: (s.created_at, s.share_id), reverse=True)]

    pages, after = [], None
    while True:
        page = real_or_fake.shares.for_clinic(ours, limit=3, after=after)
        pages.append([s.share_id for s in page.shares])
        if page.next is None:
            break
        after = page.next
    assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:8]]
    whole = real_or_fake.shares.for_clinic(ours, limit=8)
    assert [s.share_id for s in whole.shares] == newest_first
    assert whole.shares[0] == made[-1]  # whole shares, as stored
    assert real_or_fake.shares.for_clinic(ours, limit=8, after=whole.next).shares == ()  # a full page may end it
    assert real_or_fake.shares.for_clinic("cl_00000000000000c3", limit=5) == SharePage((), None)
    # A cursor made up by hand only moves within the caller's clinic.
    theirs = ShareCursor(clock.now(), "sh_00000000000000000206")
    assert {s.clinic_id for s in real_or_fake.shares.for_clinic(ours, limit=20, after=theirs).shares} == {ours}


def test_an_administrator_lifts_a_lock_in_force_and_nothing_else(real_or_fake: Deps) -> None:
    clock = FakeClock()
    share = a_share("sh_00000000000000000007", clock)
    real_or_fake.shares.add(share)
    real_or_fake.shares.take_attempt(share.share_id, clock.now())
    assert real_or_fake.shares.lift_lock(share.share_id, clock.now()) is False  # no lock: the count stays
    assert real_or_fake.shares.get(share.share_id).attempts == Attempts(1, None)
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        real_or_fake.shares.take_attempt(share.share_id, clock.now())
    assert real_or_fake.shares.get(share.share_id).attempts.locked(clock.now())
    assert real_or_fake.shares.lift_lock(share.share_id, clock.advance(minutes=1)) is True
    assert real_or_fake.shares.get(share.share_id).attempts == Attempts()
    assert real_or_fake.shares.take_attempt(share.share_id, clock.now()) == Attempts(1, None)  # a new window
    # A lock that has ended by itself is not lifted again; a missing share has none.
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        real_or_fake.shares.take_attempt(share.share_id, clock.now())
    assert real_or_fake.shares.lift_lock(share.share_id, clock.advance(minutes=16)) is False
    assert real_or_fake.shares.lift_lock("sh_missing", clock.now()) is False
