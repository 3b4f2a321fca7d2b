"""SES and SNS delivery events, as AWS publishes them (``tests/fixtures/delivery_events``), onto each
contact's delivery: by message id, never backwards, and a hard bounce or complaint is never sent again."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.deliveries import Bounce, DeliveryStatus
from chalicelib.domain.errors import MalformedRequest
from chalicelib.domain.shares import key_actor
from chalicelib.services import accounts, delivery_events, ingest, notifier, shares, visits
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data
from tests.fakes import mailer, sms
from tests.unit.test_shares import CONTACTS, STUDY, run_jobs

ACTOR = key_actor("ky_test")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "delivery_events"


@pytest.fixture
def issued(deps: Deps) -> tuple[str, str]:
    clinic, key = accounts.create_clinic("Kliniken Väst", deps)
    parts = [dicom_files.instance(study_uid=STUDY, frames=6, burned_in="NO"), dicom_files.instance(study_uid=STUDY)]
    ingest.store_instances(clinic.clinic_id, parts, deps)
    return clinic.clinic_id, key.plain_text


@pytest.fixture
def clinic(issued: tuple[str, str]) -> str:
    return issued[0]


@pytest.fixture
def key(issued: tuple[str, str]) -> str:
    return issued[1]


def ses_event(name: str, message_id: str) -> str:
    """An SES event record as its SNS topic delivers it raw to the queue."""
    return (FIXTURES / f"{name}.json").read_text().replace("MESSAGE-ID", message_id)


def sms_logs(*lines: tuple[str, str]) -> dict[str, Any]:
    """A CloudWatch Logs subscription event carrying SMS delivery-status lines (``(fixture, message id)``)."""
    events = [
        {"id": str(n), "timestamp": 0, "message": (FIXTURES / f"{name}.json").read_text().replace("MESSAGE-ID", mid)}
        for n, (name, mid) in enumerate(lines)
    ]
    data = {
        "messageType": "DATA_MESSAGE",
        "logGroup": "sns/eu-north-1/1/DirectPublishToPhoneNumber",
        "logEvents": events,
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


def sent_share(deps: Deps, clinic: str) -> tuple[str, str, str]:
    share = shares.send_study(clinic, STUDY, shares.SendRequest(contacts=CONTACTS), deps, actor=ACTOR).share
    run_jobs(deps)
    stored = deps.shares.get(share.share_id)
    email_id, sms_id = (d.message_id for d in stored.deliveries)
    assert email_id
    assert sms_id
    return share.share_id, email_id, sms_id


def apply_ses(name: str, message_id: str, deps: Deps) -> None:
    event = delivery_events.from_ses(ses_event(name, message_id))
    assert event is not None
    delivery_events.apply(event, deps)


@pytest.mark.parametrize(
    ("fixture", "status", "bounce"),
    [
        ("ses_send", DeliveryStatus.SENT, None),
        ("ses_delivery", DeliveryStatus.DELIVERED, None),
        ("ses_delivery_delay", DeliveryStatus.DELAYED, None),
        ("ses_bounce_permanent", DeliveryStatus.BOUNCED, Bounce.HARD),
        ("ses_bounce_transient", DeliveryStatus.BOUNCED, Bounce.SOFT),
        ("ses_complaint", DeliveryStatus.COMPLAINED, None),
        ("ses_reject", DeliveryStatus.FAILED, None),
        ("ses_rendering_failure", DeliveryStatus.FAILED, None),
    ],
)
def test_each_ses_event_type_reaches_the_delivery_of_its_message(
    deps: Deps, clinic: str, fixture: str, status: DeliveryStatus, bounce: Bounce | None
) -> None:
    share_id, email_id, _ = sent_share(deps, clinic)
    apply_ses(fixture, email_id, deps)
    email, text = deps.shares.get(share_id).deliveries
    assert (email.status, email.bounce) == (status, bounce)
    assert text.status is DeliveryStatus.SENT  # the other contact's message is another message
    if status is not DeliveryStatus.SENT:
        assert email.updated_at is not None


def test_opens_and_clicks_are_not_a_delivery_fate() -> None:
    assert delivery_events.from_ses(ses_event("ses_open", "m-1")) is None


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        "[]",
        '{"eventType": "Bounce"}',
        '{"mail": {"messageId": "m"}, "eventType": "Delivery", "delivery": {"timestamp": "yesterday"}}',
    ],
)
def test_what_is_not_an_ses_record_is_refused(body: str) -> None:
    with pytest.raises(MalformedRequest):
        delivery_events.from_ses(body)


def test_a_share_to_two_contacts_one_bounced_one_delivered_shows_in_the_history(
    deps: Deps, clinic: str, client: Client, key: str
) -> None:
    _share_id, email_id, sms_id = sent_share(deps, clinic)
    apply_ses("ses_bounce_permanent", email_id, deps)
    for receipt in delivery_events.from_sms_logs(sms_logs(("sns_sms_success", sms_id))):
        delivery_events.apply(receipt, deps)
    history = client.http.get(f"/studies/{STUDY}/shares", headers={"Authorization": f"Bearer {key}"})
    (entry,) = json.loads(history.body)["shares"]
    email, text = entry["deliveries"]
    assert (email["status"], email["bounce"]) == ("bounced", "hard")
    assert "Radera länken" in email["advice"]["sv"]
    assert "right address" in email["advice"]["en"]
    assert (text["status"], text["advice"]) == ("delivered", None)


def test_late_repeated_and_reordered_events_never_move_a_delivery_backwards(deps: Deps, clinic: str) -> None:
    share_id, email_id, _ = sent_share(deps, clinic)
    for name in ("ses_delivery", "ses_bounce_permanent", "ses_delivery", "ses_send", "ses_bounce_permanent"):
        apply_ses(name, email_id, deps)
    email = deps.shares.get(share_id).deliveries[0]
    assert (email.status, email.bounce) == (DeliveryStatus.BOUNCED, Bounce.HARD)
    apply_ses("ses_complaint", email_id, deps)  # a complaint comes after a delivery, and says more
    assert deps.shares.get(share_id).deliveries[0].status is DeliveryStatus.COMPLAINED
    apply_ses("ses_delivery", email_id, deps)
    assert deps.shares.get(share_id).deliveries[0].status is DeliveryStatus.COMPLAINED


def test_an_event_for_an_older_message_does_not_touch_the_newer_one(deps: Deps, clinic: str, key: str) -> None:
    share_id, email_id, _ = sent_share(deps, clinic)
    shares.resend(clinic, share_id, deps, actor=ACTOR)
    run_jobs(deps)
    newer = deps.shares.get(share_id).deliveries[0]
    assert newer.message_id != email_id
    apply_ses("ses_bounce_transient", email_id, deps)  # the first message's news, arriving late
    assert deps.shares.get(share_id).deliveries[0] == newer


def test_a_resend_skips_a_hard_bounced_address_and_says_so(deps: Deps, clinic: str, client: Client, key: str) -> None:
    share_id, email_id, _ = sent_share(deps, clinic)
    apply_ses("ses_bounce_permanent", email_id, deps)
    before = len(mailer(deps).sent)
    answer = client.http.post(f"/shares/{share_id}/resend", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 202
    (skipped,) = json.loads(answer.body)["skipped"]
    assert skipped == {"position": 1, "kind": "email", "status": "bounced", "bounce": "hard"}
    run_jobs(deps)
    assert len(mailer(deps).sent) == before  # nothing to the bounced address
    assert sms(deps).sent[-1][0] == patient_data.PHONES[0]
    # Nor a one-time code, nor anything else the notifier sends.
    bounced = deps.shares.get(share_id).deliveries[0]
    code = notifier.Message(
        notifier.Notice.SHARE_CODE, "sv", "Kliniken Väst", {"clinic_name": "K", "code": "1"}, None, bounced.sent_at
    )
    assert notifier.send(bounced.queued_again(), code, bounced.sent_at, deps) == bounced
    assert len(mailer(deps).sent) == before


def test_sms_receipts_from_cloudwatch_logs(deps: Deps, clinic: str) -> None:
    share_id, _, sms_id = sent_share(deps, clinic)
    (failed,) = delivery_events.from_sms_logs(sms_logs(("sns_sms_failure", sms_id)))
    assert (failed.status, failed.reason) == (DeliveryStatus.FAILED, "UnknownErrorAttemptingToReachPhone")
    delivery_events.apply(failed, deps)
    assert deps.shares.get(share_id).deliveries[1].status is DeliveryStatus.FAILED
    with pytest.raises(MalformedRequest):
        delivery_events.from_sms_logs({"awslogs": {"data": "not gzip"}})


def test_visit_links_are_followed_the_same_way(deps: Deps, clinic: str) -> None:
    actor = visits.clinician(clinic, "dr.berg")
    visit = visits.create_visit(actor, CONTACTS, deps)
    email_id, sms_id = (d.message_id for d in visit.deliveries)
    assert email_id
    assert sms_id
    apply_ses("ses_delivery", email_id, deps)
    for receipt in delivery_events.from_sms_logs(sms_logs(("sns_sms_failure", sms_id))):
        delivery_events.apply(receipt, deps)
    assert [d.status for d in deps.visits.get(visit.visit_id).deliveries] == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
    ]


def test_events_for_messages_nobody_follows_are_ignored(deps: Deps) -> None:
    event = delivery_events.from_ses(ses_event("ses_delivery", "not-ours"))
    assert event is not None
    assert delivery_events.apply(event, deps) is None


def shape(value: Any) -> Any:
    """The fields of a JSON value, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.mark.parametrize(
    ("button", "fixture"),
    [
        ("delivered", "ses_delivery"),
        ("bounce", "ses_bounce_permanent"),
        ("soft_bounce", "ses_bounce_transient"),
        ("complaint", "ses_complaint"),
        ("delay", "ses_delivery_delay"),
    ],
)
def test_the_local_outbox_plays_ses_records_shaped_as_aws_documents_them(button: str, fixture: str) -> None:
    from datetime import UTC, datetime

    from local.provider_events import ses_record

    played = ses_record(button, "m-1", "K <no-reply@example.com>", ["recipient@example.com"], datetime.now(UTC))
    documented = json.loads(ses_event(fixture, "m-1"))
    for key in ("eventType", *[k for k in documented if k not in ("mail", "eventType")]):
        assert shape(played[key]) == shape(documented[key]), key
    assert set(played["mail"]) <= set(documented["mail"])
    event = delivery_events.from_ses(json.dumps(played))
    assert event is not None
    assert event.message_id == "m-1"


@pytest.mark.parametrize(
    ("button", "fixture"), [("sms_delivered", "sns_sms_success"), ("sms_failed", "sns_sms_failure")]
)
def test_the_local_outbox_plays_sms_receipts_shaped_as_aws_documents_them(button: str, fixture: str) -> None:
    from datetime import UTC, datetime

    from local.provider_events import logs_subscription_event, sms_log_line

    line = sms_log_line(button, "m-2", patient_data.PHONES[0], datetime.now(UTC))
    documented = json.loads((FIXTURES / f"{fixture}.json").read_text())
    assert set(line) == set(documented)
    assert set(line["delivery"]) >= set(documented["delivery"]) - {"phoneCarrier"}
    (event,) = delivery_events.from_sms_logs(logs_subscription_event([line], button == "sms_delivered", "eu-north-1"))
    assert event.message_id == "m-2"
    assert event.status is (DeliveryStatus.DELIVERED if button == "sms_delivered" else DeliveryStatus.FAILED)
