"""Sending studies to patients, on fakes (with the real anonymization and media libraries)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.domain import links
from chalicelib.domain.deliveries import DeliveryStatus
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.shares import LinkDeleted, LinkExpired, ShareStatus, key_actor, staff_actor
from chalicelib.services import accounts, ingest, shares
from chalicelib.services.deps import Deps
from chalicelib.services.versioned import update
from tests import dicom_files, patient_data
from tests.fakes import FakeClock, FakeJobQueue, FakeSmsSender, InMemoryObjectStore, mailer, sms

ACTOR = key_actor("ky_test")

STUDY = "1.2.826.0.1.3680043.8.498.900"
CONTACTS = f"{patient_data.EMAILS[0]}, {patient_data.PHONES[0]}"


@pytest.fixture
def clinic(deps: Deps) -> str:
    clinic_id = accounts.create_clinic("Kliniken Väst", deps)[0].clinic_id
    parts = [dicom_files.instance(study_uid=STUDY, frames=6, burned_in="NO"), dicom_files.instance(study_uid=STUDY)]
    ingest.store_instances(clinic_id, parts, deps)
    return clinic_id


def run_jobs(deps: Deps) -> None:
    """What the share and delivery workers do with what was queued."""
    jobs = deps.jobs
    assert isinstance(jobs, FakeJobQueue)
    while jobs.sent:
        queue, message = jobs.sent.pop(0)
        if queue == "share":
            shares.prepare_and_send(message["share_id"], deps)
        else:
            shares.deliver(message["share_id"], deps)


def link_in(text: str) -> str:
    match = re.search(r"https://share\.example\.test/p/([A-Za-z0-9_-]+)", text)
    assert match, "no link in the message"
    return match.group(1)


def test_a_share_is_queued_then_prepared_and_sent_to_every_contact(deps: Deps, clinic: str) -> None:
    sent = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR)
    assert sent.share.status is ShareStatus.QUEUED
    assert sent.warnings == ()
    run_jobs(deps)

    share = deps.shares.get(sent.share.share_id)
    assert share.status is ShareStatus.READY
    assert {d.status for d in share.deliveries} == {DeliveryStatus.SENT}
    assert share.needs_password  # the secondary capture cannot be anonymized
    (email,) = mailer(deps).sent
    assert email.sender_name == "Kliniken Väst"
    assert patient_data.leaked(email.subject) == []
    (text,) = sms(deps).sent
    token = link_in(email.text)
    assert token == link_in(text[1]) == link_in(email.html)
    assert deps.shares.by_token_hash(links.token_hash(token)).share_id == share.share_id
    assert {f.kind for f in share.files} >= {"dicom", "video", "zip"}


def test_sms_only_is_accepted_with_a_warning(deps: Deps, clinic: str) -> None:
    sent = shares.send_study(clinic, STUDY, shares.SendRequest(contacts="070-123 45 67"), deps, actor=ACTOR)
    assert sent.warnings == (shares.SMS_ONLY_WARNING,)
    assert sent.share.deliveries[0].contact.address == patient_data.PHONES[0]


def test_an_invalid_contact_is_refused_by_position(deps: Deps, clinic: str) -> None:
    with pytest.raises(InvalidInput, match="contact 2"):
        shares.send_study(
            clinic, STUDY, shares.SendRequest(contacts=f"{patient_data.EMAILS[0]}, not-a-contact"), deps, actor=ACTOR
        )


def test_without_contacts_the_studys_own_are_used(deps: Deps, clinic: str) -> None:
    sent = shares.send_study(clinic, STUDY, shares.SendRequest(), deps, actor=ACTOR)
    assert [d.contact.address for d in sent.share.deliveries] == [patient_data.EMAILS[0], patient_data.PHONES[0]]


def test_without_contacts_a_live_share_is_resent(deps: Deps, clinic: str, clock: FakeClock) -> None:
    first = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    run_jobs(deps)
    clock.advance(days=3)
    again = shares.send_study(clinic, STUDY, shares.SendRequest(), deps, actor=ACTOR)
    assert again.resent
    assert again.share.share_id == first.share_id
    run_jobs(deps)
    assert len(mailer(deps).sent) == 2
    assert link_in(mailer(deps).sent[0].text) == link_in(mailer(deps).sent[1].text)


def test_resend_reuses_link_and_contacts_and_never_extends_life(deps: Deps, clinic: str, clock: FakeClock) -> None:
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    run_jobs(deps)
    clock.advance(days=30)
    again = shares.resend(clinic, share.share_id, deps, actor=ACTOR)
    run_jobs(deps)
    assert again.expires_at == share.expires_at
    assert deps.shares.get(share.share_id).expires_at == share.expires_at
    assert deps.shares.get(share.share_id).last_sent_at == clock.now()
    clock.advance(days=60)
    with pytest.raises(LinkExpired, match="new link"):
        shares.resend(clinic, share.share_id, deps, actor=ACTOR)


class ResendingSms(FakeSmsSender):
    """A text that takes long enough for the clinic to press "resend" while it goes out."""

    def __init__(self, meanwhile: Callable[[], object]) -> None:
        super().__init__()
        self.meanwhile: Callable[[], object] | None = meanwhile

    def send(self, phone: str, text: str) -> str:
        if self.meanwhile is not None:
            self.meanwhile, meanwhile = None, self.meanwhile
            meanwhile()
        return super().send(phone, text)


def test_a_resend_while_a_delivery_is_under_way_still_reaches_every_contact(deps: Deps, clinic: str) -> None:
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    run_jobs(deps)
    # The text is due again (a retry); while it goes out, the clinic resends the link to both contacts.
    retry_text = lambda s: replace(s, deliveries=(s.deliveries[0], s.deliveries[1].queued_again()))  # noqa: E731
    update(deps.shares, share.share_id, retry_text)
    texts = ResendingSms(lambda: shares.resend(clinic, share.share_id, deps, actor=ACTOR))
    busy = replace(deps, sms=texts)
    shares.deliver(share.share_id, busy)
    run_jobs(busy)  # the resend's own delivery job

    # The e-mail went out again: the in-flight delivery did not write "sent" over the resend's reset.
    assert len(mailer(deps).sent) == 2
    assert len(texts.sent) == 1  # sent once after the resend, not twice
    assert {d.status for d in deps.shares.get(share.share_id).deliveries} == {DeliveryStatus.SENT}


def test_a_deleted_link_loses_its_files_and_cannot_be_resent(deps: Deps, clinic: str) -> None:
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    run_jobs(deps)
    files = deps.shares.get(share.share_id).files
    shares.delete(clinic, share.share_id, deps, actor=ACTOR)
    for file in files:
        with pytest.raises(NotFound):
            deps.objects.size(deps.buckets.share, file.key)
    with pytest.raises(LinkDeleted):
        shares.resend(clinic, share.share_id, deps, actor=ACTOR)


def test_a_refused_email_does_not_stop_the_sms(deps: Deps, clinic: str) -> None:
    mailer(deps).failing.add(patient_data.EMAILS[0])
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    run_jobs(deps)  # a refused address is final: nothing is left pending
    current = deps.shares.get(share.share_id)
    email, phone = current.deliveries
    assert phone.status is DeliveryStatus.SENT
    assert email.status is DeliveryStatus.FAILED
    assert email.reason == "MessageRejected"
    shares.deliver(share.share_id, deps)
    assert len(sms(deps).sent) == 1
    assert deps.shares.get(share.share_id).deliveries[0].attempts == 1


def test_transient_sms_failures_are_retried_until_they_pass(deps: Deps, clinic: str) -> None:
    sms(deps).failing.add(patient_data.PHONES[0])
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    with pytest.raises(shares.DeliveriesPending):
        run_jobs(deps)
    sms(deps).failing.clear()
    shares.deliver(share.share_id, deps)
    assert [d.status for d in deps.shares.get(share.share_id).deliveries] == [DeliveryStatus.SENT] * 2
    assert len(mailer(deps).sent) == 1  # the e-mail was not sent twice


def test_opted_out_numbers_get_nothing(deps: Deps, clinic: str) -> None:
    sms(deps).opted_out.add(patient_data.PHONES[0])
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    run_jobs(deps)
    assert sms(deps).sent == []
    assert deps.shares.get(share.share_id).deliveries[1].status is DeliveryStatus.OPTED_OUT


def test_chosen_instances_must_belong_to_the_study(deps: Deps, clinic: str) -> None:
    (first, _) = deps.studies.instances(clinic, STUDY)
    sent = shares.send_study(clinic, STUDY, shares.SendRequest(CONTACTS, (first.sop_instance_uid,)), deps, actor=ACTOR)
    run_jobs(deps)
    assert {f.sop_instance_uid for f in deps.shares.get(sent.share.share_id).files} == {first.sop_instance_uid, None}
    with pytest.raises(InvalidInput, match="instance 2"):
        shares.send_study(
            clinic, STUDY, shares.SendRequest(CONTACTS, (first.sop_instance_uid, "9.9.9")), deps, actor=ACTOR
        )


def test_a_clinic_never_reaches_another_clinics_shares(deps: Deps, clinic: str) -> None:
    other = accounts.create_clinic("Kliniken Öst", deps)[0].clinic_id
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    for action in (shares.resend, shares.delete):
        with pytest.raises(NotFound):
            action(other, share.share_id, deps, actor=ACTOR)
    with pytest.raises(NotFound):
        shares.history(other, STUDY, deps)
    with pytest.raises(NotFound):
        shares.send_study(other, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR)


def test_the_clinic_link_code_travels_with_the_link(deps: Deps, clinic: str) -> None:
    deps.clinics.save(replace(deps.clinics.get(clinic), link_code_hash=links.hash_secret("4711")))
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    assert share.link_code_hash is not None
    assert links.secret_matches("4711", share.link_code_hash)


def test_the_link_goes_out_when_the_pictures_are_ready_before_the_zip(deps: Deps, clinic: str) -> None:
    seen: list[set[str]] = []
    original_send = mailer(deps).send

    def spy(email: Any) -> str:
        (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
        seen.append({f.kind for f in share.files})
        return original_send(email)

    mailer(deps).send = spy  # type: ignore[method-assign]
    shares.send_study(clinic, STUDY, shares.SendRequest(contacts=patient_data.EMAILS[0]), deps, actor=ACTOR)
    run_jobs(deps)
    assert seen == [{"video", "poster", "image"}]  # at sending time: pictures, no DICOM files and no ZIP yet
    (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
    assert {f.kind for f in share.files} == {"video", "poster", "image", "dicom", "zip"}


def test_a_share_deleted_while_its_files_are_made_keeps_none(deps: Deps, clinic: str) -> None:
    share = shares.send_study(
        clinic, STUDY, shares.SendRequest(contacts=patient_data.EMAILS[0]), deps, actor=ACTOR
    ).share
    original_send = mailer(deps).send

    def delete_on_send(email: Any) -> str:
        shares.delete(clinic, share.share_id, deps, actor=ACTOR)
        return original_send(email)

    mailer(deps).send = delete_on_send  # type: ignore[method-assign]
    run_jobs(deps)
    store = deps.objects
    assert isinstance(store, InMemoryObjectStore)
    assert store.keys(deps.buckets.share, f"shares/{share.share_id}/") == []


def test_the_audit_names_who_sent_resent_and_deleted_a_link(deps: Deps, clinic: str) -> None:
    sent = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=staff_actor("st_a"))
    share = sent.share
    run_jobs(deps)
    shares.resend(clinic, share.share_id, deps, actor=staff_actor("st_b"))
    run_jobs(deps)
    shares.delete(clinic, share.share_id, deps, actor=ACTOR)
    audit = [(e.kind.value, e.client) for e in deps.access_log.for_share(share.share_id)]
    assert audit == [("sent", "staff:st_a"), ("resent", "staff:st_b"), ("deleted", "key:ky_test")]
