"""Delivery events on the running stack: the outbox's buttons play what SES and SNS would report, into the
same queue and the same handler as in AWS, and the share history shows each contact's fate."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests import dicom_files, patient_data
from tests.e2e.conftest import Stack
from tests.e2e.test_share import count_messages, stow, wait_for_message

pytestmark = pytest.mark.e2e

STUDY = "1.2.826.0.1.3680043.8.498.968"


def deliveries(stack: Stack, share_id: str) -> list[dict[str, Any]]:
    _, history = stack.json("GET", f"/studies/{STUDY}/shares", key=stack.demo["api_key"])
    (share,) = [s for s in history["shares"] if s["share_id"] == share_id]
    return list(share["deliveries"])


def wait_for_statuses(stack: Stack, share_id: str, wanted: list[str], timeout_s: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = deliveries(stack, share_id)
        if [d["status"] for d in found] == wanted:
            return found
        time.sleep(0.3)
    pytest.fail(f"the deliveries never read {wanted}: {[d['status'] for d in deliveries(stack, share_id)]}")


def play(stack: Stack, message_id: str, event: str) -> None:
    status, answer = stack.json("POST", f"/_local/outbox/{message_id}/events", body={"event": event})
    assert status == 202, answer


def test_a_bounced_e_mail_and_a_failed_text_show_in_the_history_and_a_resend_skips_the_bounce(stack: Stack) -> None:
    stow(stack, [dicom_files.instance(study_uid=STUDY, burned_in="NO")])
    email, phone = patient_data.EMAILS[0], patient_data.PHONES[2]
    before = count_messages(stack, "email", email), count_messages(stack, "sms", phone)
    status, share = stack.json(
        "POST", f"/studies/{STUDY}/shares", key=stack.demo["api_key"], body={"contacts": f"{email}, {phone}"}
    )
    assert status == 202
    mail = wait_for_message(stack, "email", email, before[0])
    text = wait_for_message(stack, "sms", phone, before[1])
    wait_for_statuses(stack, share["share_id"], ["sent", "sent"])

    play(stack, mail["message_id"], "delivered")
    wait_for_statuses(stack, share["share_id"], ["delivered", "sent"])
    play(stack, mail["message_id"], "bounce")
    play(stack, mail["message_id"], "delivered")  # late and repeated: never moves back
    play(stack, text["message_id"], "sms_failed")
    email_delivery, text_delivery = wait_for_statuses(stack, share["share_id"], ["bounced", "failed"])
    assert email_delivery["bounce"] == "hard"
    assert "right address" in email_delivery["advice"]["en"]
    assert text_delivery["reason"]

    status, resent = stack.json("POST", f"/shares/{share['share_id']}/resend", key=stack.demo["api_key"])
    assert status == 202
    assert [s["position"] for s in resent["skipped"]] == [1]
    wait_for_message(stack, "sms", phone, before[1] + 1)
    time.sleep(1)
    assert count_messages(stack, "email", email) == before[0] + 1  # never written to again


def test_the_outbox_refuses_what_does_not_fit(stack: Stack) -> None:
    status, _ = stack.json("POST", "/_local/outbox/no-such-message/events", body={"event": "bounce"})
    assert status == 404
