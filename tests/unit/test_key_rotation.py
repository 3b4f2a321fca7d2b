"""Rotating the signing key: the current key signs, the previous one still verifies, and a link is re-made
under the key it was made with, or, once that key is retired, fails loudly instead of sending a dead link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import wiring
from chalicelib.domain import links, sessions
from chalicelib.domain.deliveries import DeliveryStatus
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.keys import KeyRing, KeyStage, WeakKey, new_key_material
from chalicelib.domain.sessions import BadSignature, Purpose
from chalicelib.domain.shares import key_actor, share_token
from chalicelib.services import accounts, ingest, keys, shares, visits
from chalicelib.services.deps import Deps
from chalicelib.settings import settings
from chalicelib.workers.rotation import rotate_secret_key
from tests import dicom_files, patient_data
from tests.fakes import FakeSigningKeys, mailer, sms
from tests.unit.test_shares import run_jobs

ACTOR = key_actor("ky_test")

STUDY = "1.2.826.0.1.3680043.8.498.901"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OLD, NEW = b"o" * 32, b"n" * 32


@pytest.fixture
def deps(deps: Deps) -> Iterator[Deps]:
    """The fakes, with keys re-read whenever asked (rationing forced reads has a test of its own)."""
    with wiring.override(replace(deps, keys=FakeSigningKeys(min_refresh_s=0))) as installed:
        yield installed


def signing_keys(deps: Deps) -> FakeSigningKeys:
    assert isinstance(deps.keys, FakeSigningKeys)
    return deps.keys


def rotate(deps: Deps) -> KeyRing:
    """A rotation, seen at once by this process (as after its cache expired)."""
    keys.rotate_now(deps)
    return deps.keys.key_ring(refresh=True)


# ------------------------------------------------------------------------------------ the ring


def test_the_current_key_signs_and_both_verify() -> None:
    ring = KeyRing(NEW, OLD)
    assert ring.verifying == (NEW, OLD)
    assert KeyRing(NEW).verifying == KeyRing(NEW, NEW).verifying == (NEW,)
    derived = ring.derived(b"sessions")
    assert derived.current not in (NEW, OLD)
    assert derived != ring.derived(b"other purpose")
    assert derived.previous == KeyRing(OLD).derived(b"sessions").current


@pytest.mark.parametrize(("current", "previous"), [(b"k" * 31, None), (NEW, b"k" * 31), (b"", None)])
def test_key_material_shorter_than_32_bytes_is_refused(current: bytes, previous: bytes | None) -> None:
    with pytest.raises(WeakKey):
        KeyRing(current, previous)


def test_fresh_key_material_is_long_random_text() -> None:
    first, second = new_key_material(), new_key_material()
    assert first != second
    assert len(first) >= 64
    assert first.decode().isascii()


def test_a_session_signed_before_one_rotation_still_verifies_but_not_after_two() -> None:
    value = sessions.sign(Purpose.PATIENT_SESSION, {"visit": "vi_1"}, KeyRing(OLD), NOW + timedelta(hours=1))
    assert sessions.verify(value, Purpose.PATIENT_SESSION, KeyRing(NEW, OLD), NOW) == {"visit": "vi_1"}
    with pytest.raises(BadSignature):
        sessions.verify(value, Purpose.PATIENT_SESSION, KeyRing(b"x" * 32, NEW), NOW)
    again = sessions.sign(Purpose.PATIENT_SESSION, {"visit": "vi_1"}, KeyRing(NEW, OLD), NOW + timedelta(hours=1))
    with pytest.raises(BadSignature):  # signed with the current key, not the previous
        sessions.verify(again, Purpose.PATIENT_SESSION, KeyRing(OLD), NOW)


def test_a_link_is_found_under_whichever_key_made_it() -> None:
    def make(key: bytes) -> str:
        return links.link_token(key, "share", "sh_1", "nonce")

    old_token = make(OLD)
    assert links.token_under(KeyRing(NEW, OLD), links.token_hash(old_token), make) == old_token
    assert links.token_under(KeyRing(NEW), links.token_hash(old_token), make) is None
    assert links.token_under(KeyRing(NEW, OLD), links.token_hash(make(NEW)), make) == make(NEW)


# ------------------------------------------------------------------------------------ rotation steps


def test_a_rotation_runs_secrets_managers_four_steps_each_of_which_may_run_twice(deps: Deps) -> None:
    store = signing_keys(deps)
    before = deps.keys.key_ring()
    # Secrets Manager starts a rotation with a pending version that holds nothing yet.
    store.labels[KeyStage.PENDING] = "v1"
    for step in keys.RotationStep:
        keys.rotation_step(step, "v1", deps)
        keys.rotation_step(step, "v1", deps)
        if step is not keys.RotationStep.FINISH:
            assert deps.keys.key_ring(refresh=True).current == before.current  # nothing signs with it yet
    made = deps.keys.key("v1")
    assert made is not None
    assert len(made) >= 32
    assert store.stages("v1") == {KeyStage.CURRENT}
    assert store.stages("v0") == {KeyStage.PREVIOUS}
    assert deps.keys.key_ring(refresh=True) == KeyRing(made, before.current)


def test_a_step_for_a_version_that_is_not_being_rotated_in_is_refused(deps: Deps) -> None:
    with pytest.raises(InvalidInput):
        keys.rotation_step(keys.RotationStep.CREATE, "no-such-version", deps)


def test_testing_refuses_weak_pending_material_and_the_current_key_stays(deps: Deps) -> None:
    before = deps.keys.key_ring()
    deps.keys.put_pending("v1", b"short")
    with pytest.raises(WeakKey):
        keys.rotation_step(keys.RotationStep.TEST, "v1", deps)
    assert deps.keys.key_ring(refresh=True) == before


def test_rotate_now_makes_a_new_current_key_and_keeps_the_old_one_for_verifying(deps: Deps) -> None:
    before = deps.keys.key_ring()
    after = rotate(deps)
    assert after.current != before.current
    assert after.previous == before.current


def test_the_rotation_function_runs_the_step_it_is_called_for(deps: Deps) -> None:
    store = signing_keys(deps)
    before = deps.keys.key_ring()
    store.labels[KeyStage.PENDING] = "v1"
    for step in keys.RotationStep:
        event = {"SecretId": settings().signing_secret, "ClientRequestToken": "v1", "Step": step.value}
        rotate_secret_key(event, None)
    assert deps.keys.key_ring(refresh=True).previous == before.current


@pytest.mark.parametrize(
    "event",
    [
        {"SecretId": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:another-AbCdEf", "Step": "createSecret"},
        {"SecretId": "patient-share-test-secret-key", "ClientRequestToken": "v1", "Step": "dropSecret"},
    ],
)
def test_the_rotation_function_rotates_its_own_key_only_and_knows_its_steps(deps: Deps, event: dict[str, str]) -> None:
    signing_keys(deps).labels[KeyStage.PENDING] = "v1"
    with pytest.raises(InvalidInput):
        rotate_secret_key(event, None)
    assert deps.keys.key("v1") is None


# ------------------------------------------------------------------------------------ re-making links


def test_a_key_read_since_the_last_rotation_is_read_again_before_a_link_is_given_up(deps: Deps) -> None:
    def make(key: bytes) -> str:
        return links.link_token(key, "visit", "vi_1", "nonce")

    stale = deps.keys.key_ring()
    keys.rotate_now(deps)  # another instance rotated; this one still holds the old ring
    assert deps.keys.key_ring() == stale
    made_elsewhere = make(signing_keys(deps).values[signing_keys(deps).labels[KeyStage.CURRENT]] or b"")
    assert keys.sent_token(links.token_hash(made_elsewhere), make, deps) == made_elsewhere


def test_forged_values_cannot_make_the_keys_be_read_again_and_again(deps: Deps) -> None:
    seconds = [0.0]
    store = FakeSigningKeys(min_refresh_s=30, monotonic=lambda: seconds[0])
    rationed = replace(deps, keys=store)
    rationed.keys.key_ring()
    for _ in range(20):
        with pytest.raises(links.LinkRetired):
            keys.sent_token("0" * 64, lambda key: links.link_token(key, "visit", "vi_1", "nonce"), rationed)
    assert store.reads == 2  # the first read, and one forced re-read
    seconds[0] = 31
    with pytest.raises(links.LinkRetired):
        keys.sent_token("0" * 64, lambda key: links.link_token(key, "visit", "vi_1", "nonce"), rationed)
    assert store.reads == 3


@pytest.fixture
def clinic(deps: Deps) -> str:
    clinic_id = accounts.create_clinic("Kliniken Väst", deps)[0].clinic_id
    ingest.store_instances(clinic_id, [dicom_files.instance(study_uid=STUDY)], deps)
    return clinic_id


def link_in(text: str) -> str:
    match = re.search(r"/[pv]/([A-Za-z0-9_-]+)", text)
    assert match, "no link in the message"
    return match.group(1)


def test_a_share_resent_after_a_rotation_sends_the_very_same_link(deps: Deps, clinic: str) -> None:
    share = shares.send_study(
        clinic, STUDY, shares.SendRequest(contacts=patient_data.EMAILS[0]), deps, actor=ACTOR
    ).share
    run_jobs(deps)
    rotate(deps)
    shares.resend(clinic, share.share_id, deps, actor=ACTOR)
    run_jobs(deps)
    first, again = mailer(deps).sent
    assert link_in(again.text) == link_in(first.text)
    assert share_token(deps.keys.key_ring().current, share) != link_in(first.text)  # not the new key's


def test_a_share_older_than_two_rotations_is_not_resent_and_its_link_still_opens(deps: Deps, clinic: str) -> None:
    share = shares.send_study(
        clinic, STUDY, shares.SendRequest(contacts=patient_data.EMAILS[0]), deps, actor=ACTOR
    ).share
    run_jobs(deps)
    token = link_in(mailer(deps).sent[0].text)
    rotate(deps)
    rotate(deps)
    with pytest.raises(links.LinkRetired):
        shares.resend(clinic, share.share_id, deps, actor=ACTOR)
    assert deps.jobs.sent == []  # type: ignore[attr-defined]
    assert len(mailer(deps).sent) == 1
    assert deps.shares.by_token_hash(links.token_hash(token)).share_id == share.share_id


def test_a_delivery_whose_link_cannot_be_re_made_fails_for_good_instead_of_sending_another(
    deps: Deps, clinic: str
) -> None:
    share = shares.send_study(
        clinic, STUDY, shares.SendRequest(contacts=patient_data.EMAILS[0]), deps, actor=ACTOR
    ).share
    # The key the link was made under is retired before the share worker sends it (a job stuck for months).
    rotate(deps)
    rotate(deps)
    run_jobs(deps)  # no DeliveriesPending: nothing a retry could change
    assert mailer(deps).sent == []
    (delivery,) = deps.shares.get(share.share_id).deliveries
    assert (delivery.status, delivery.reason) == (DeliveryStatus.FAILED, links.LINK_RETIRED)


def test_a_visit_link_is_sent_again_under_the_previous_key_and_fails_for_good_after_two_rotations(
    deps: Deps,
) -> None:
    clinic, _ = accounts.create_clinic("Kliniken Väst", deps)
    actor = visits.clinician(clinic.clinic_id, "dr.berg")
    texts = sms(deps)
    texts.failing.update({patient_data.PHONES[0], patient_data.PHONES[2]})  # a passing failure, retried
    first = visits.create_visit(actor, patient_data.PHONES[0], deps)
    second = visits.create_visit(actor, patient_data.PHONES[2], deps)
    texts.failing.clear()

    rotate(deps)
    visits.redeliver(first.visit_id, deps)
    ((_, text),) = texts.sent
    assert links.token_hash(link_in(text)) == first.link_hash

    rotate(deps)
    visit = visits.redeliver(second.visit_id, deps)
    (delivery,) = visit.deliveries
    assert (delivery.status, delivery.reason) == (DeliveryStatus.FAILED, links.LINK_RETIRED)
    assert not delivery.due
    assert len(texts.sent) == 1
