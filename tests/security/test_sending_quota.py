"""Finding 9: nothing limited sending. A stolen key, or a script gone wrong, could flood patients'
inboxes and phones (and the clinic's SMS bill) through shares, resends, visits and one-time codes.

Each clinic has a daily quota of e-mails and texts (a setting, 500 by default). Every message is
counted when it is asked for, before anything is sent; past the quota the answer is a clear 429 with
``Retry-After`` and a ``SendingQuotaExceeded`` metric, and nothing is sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.services import accounts, ingest
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data
from tests.fakes import FakeClock, mailer, sms
from tests.unit.test_shares import link_in, run_jobs

STUDY = "1.2.826.0.1.3680043.8.498.905"
TWO_CONTACTS = f"{patient_data.EMAILS[0]}, {patient_data.PHONES[0]}"


@pytest.fixture
def key(deps: Deps) -> str:
    clinic, issued = accounts.create_clinic("Kliniken Norr", deps)
    ingest.store_instances(clinic.clinic_id, [dicom_files.instance(study_uid=STUDY, burned_in="YES")], deps)
    return issued.plain_text


def call(client: Client, method: str, path: str, key: str, body: Any = None, **headers: str) -> Any:
    all_headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers}
    return getattr(client.http, method)(path, headers=all_headers, body=None if body is None else json.dumps(body))


def test_past_the_daily_quota_nothing_is_sent_and_the_answer_is_429(
    client: Client, key: str, deps: Deps, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert call(client, "put", "/settings", key, {"daily_message_limit": 5}).status_code == 200
    sent = call(client, "post", f"/studies/{STUDY}/shares", key, {"contacts": TWO_CONTACTS})
    assert sent.status_code == 202  # 2 of 5
    run_jobs(deps)
    share_id = json.loads(sent.body)["share_id"]
    visit = call(client, "post", "/visits", key, {"contacts": TWO_CONTACTS}, **{"X-Clinician": "dr.berg"})
    assert visit.status_code == 201  # 4 of 5
    messages_before = len(mailer(deps).sent) + len(sms(deps).sent)

    for refused in (
        call(client, "post", f"/shares/{share_id}/resend", key),
        call(client, "post", f"/studies/{STUDY}/shares", key, {"contacts": TWO_CONTACTS}),
        call(client, "post", "/visits", key, {"contacts": TWO_CONTACTS}, **{"X-Clinician": "dr.berg"}),
    ):
        assert refused.status_code == 429
        assert json.loads(refused.body)["Code"] == "SendingQuotaExceeded"
        assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    run_jobs(deps)
    assert len(mailer(deps).sent) + len(sms(deps).sent) == messages_before
    assert '"SendingQuotaExceeded":[1.0]' in capsys.readouterr().out

    # The patient's one-time codes count too (two contacts: one over what is left).
    token = link_in(mailer(deps).sent[0].text)
    code = client.http.post(
        f"/p/{token}/code", headers={"Content-Type": "application/x-www-form-urlencoded"}, body="request=code"
    )
    assert code.status_code == 429
    assert "kan inte skicka fler meddelanden" in code.body.decode()

    clock.advance(days=1)  # a new day, a new quota
    assert call(client, "post", f"/shares/{share_id}/resend", key).status_code == 202
