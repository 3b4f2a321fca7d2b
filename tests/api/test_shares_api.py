"""The clinic's share routes, in-process on fakes."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import msgspec
import pytest
from chalice.test import Client
from pydicom.uid import CTImageStorage, UltrasoundImageStorage

from chalicelib.api import answers
from chalicelib.domain.verdicts import NOT_YET_KNOWN
from chalicelib.services import accounts, ingest
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data
from tests.fakes import FakeClock
from tests.unit.test_shares import run_jobs

STUDY = "1.2.826.0.1.3680043.8.498.901"


@pytest.fixture
def keys(deps: Deps) -> tuple[str, str]:
    north, north_key = accounts.create_clinic("Kliniken Norr", deps)
    _, south_key = accounts.create_clinic("Kliniken Syd", deps)
    ingest.store_instances(north.clinic_id, [dicom_files.instance(study_uid=STUDY, burned_in="NO", frames=3)], deps)
    return north_key.plain_text, south_key.plain_text


def call(client: Client, method: str, path: str, key: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
    return getattr(client.http, method)(path, headers=headers, body=data)


def test_send_answers_202_with_the_queued_share(client: Client, keys: tuple[str, str], deps: Deps) -> None:
    contacts = f"{patient_data.EMAILS[0]}, {patient_data.PHONES[0]}"
    response = call(client, "post", f"/studies/{STUDY}/shares", keys[0], {"contacts": contacts, "language": "en"})
    assert response.status_code == 202
    share = json.loads(response.body)
    assert share["status"] == "queued"
    assert share["language"] == "en"
    assert [d["kind"] for d in share["deliveries"]] == ["email", "sms"]
    assert share["warnings"] == []
    assert share["can_resend"] is False
    run_jobs(deps)
    (entry,) = json.loads(call(client, "get", f"/studies/{STUDY}/shares", keys[0]).body)["shares"]
    assert entry["status"] == "ready"
    assert [d["status"] for d in entry["deliveries"]] == ["sent", "sent"]
    assert entry["can_resend"] is True


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"contacts": "astrid@"}, 422, "contact 1"),
        ({"contacts": 7}, 422, "got `int` - at `$.contacts`"),
        ({"contacts": patient_data.EMAILS[0], "language": "de"}, 422, "'language'"),
        ({"contacts": patient_data.EMAILS[0], "lifetime_days": 400}, 422, "lifetime"),
        ({"contacts": patient_data.EMAILS[0], "instances": "all"}, 422, "`$.instances`"),
        ({"contacts": patient_data.EMAILS[0], "instances": ["9.9"]}, 422, "instance 1"),
        ("{broken", 400, "not valid JSON"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    client: Client, keys: tuple[str, str], body: Any, status: int, says: str
) -> None:
    response = call(client, "post", f"/studies/{STUDY}/shares", keys[0], body)
    assert response.status_code == status
    message = json.loads(response.body)["Message"]
    assert says in message
    assert patient_data.leaked(message) == []


def test_resend_and_delete(client: Client, keys: tuple[str, str], deps: Deps) -> None:
    share = json.loads(
        call(client, "post", f"/studies/{STUDY}/shares", keys[0], {"contacts": patient_data.EMAILS[0]}).body
    )
    run_jobs(deps)
    again = call(client, "post", f"/shares/{share['share_id']}/resend", keys[0])
    assert again.status_code == 202
    assert json.loads(again.body)["expires_at"] == share["expires_at"]
    deleted = call(client, "delete", f"/shares/{share['share_id']}", keys[0])
    assert deleted.status_code == 200
    assert json.loads(deleted.body)["status"] == "deleted"
    gone = call(client, "post", f"/shares/{share['share_id']}/resend", keys[0])
    assert gone.status_code == 410


def test_no_route_of_one_clinic_reaches_another_clinics_shares(
    client: Client, keys: tuple[str, str], deps: Deps
) -> None:
    share = json.loads(
        call(client, "post", f"/studies/{STUDY}/shares", keys[0], {"contacts": patient_data.EMAILS[0]}).body
    )
    run_jobs(deps)
    for method, path in (
        ("post", f"/shares/{share['share_id']}/resend"),
        ("delete", f"/shares/{share['share_id']}"),
        ("get", f"/studies/{STUDY}/shares"),
        ("post", f"/studies/{STUDY}/shares"),
    ):
        response = call(
            client, method, path, keys[1], {"contacts": patient_data.EMAILS[1]} if method == "post" else None
        )
        assert response.status_code == 404, (method, path)
    assert deps.shares.get(share["share_id"]).deleted_at is None


def test_an_idempotency_key_returns_the_same_share_and_sends_nothing_twice(
    client: Client, keys: tuple[str, str], deps: Deps
) -> None:
    headers = {"Authorization": f"Bearer {keys[0]}", "Content-Type": "application/json", "Idempotency-Key": "req-1"}
    body = json.dumps({"contacts": patient_data.EMAILS[0]})
    first = client.http.post(f"/studies/{STUDY}/shares", headers=headers, body=body)
    second = client.http.post(f"/studies/{STUDY}/shares", headers=headers, body=body)
    assert first.status_code == second.status_code == 202
    assert json.loads(first.body)["share_id"] == json.loads(second.body)["share_id"]
    assert len(deps.shares.rows) == 1  # type: ignore[attr-defined]
    assert len(deps.jobs.sent) == 1  # type: ignore[attr-defined]
    other = client.http.post(
        f"/studies/{STUDY}/shares", headers=headers, body=json.dumps({"contacts": patient_data.EMAILS[1]})
    )
    assert other.status_code == 422
    # Keys are per clinic: another clinic's same key is its own request.
    headers_south = {**headers, "Authorization": f"Bearer {keys[1]}"}
    assert client.http.post(f"/studies/{STUDY}/shares", headers=headers_south, body=body).status_code == 404


def test_the_send_answer_announces_each_instances_verdict_and_the_share_keeps_it(
    client: Client, deps: Deps, clock: FakeClock
) -> None:
    """An ultrasound image without regions goes out behind the password: the answer says so before it does."""
    clinic, key = accounts.create_clinic("Kliniken Öst", deps)
    study = "1.2.826.0.1.3680043.8.498.902"
    parts = [
        dicom_files.instance(
            study_uid=study,
            series_uid=f"{study}.0",
            sop_uid=f"{study}.1",
            sop_class=UltrasoundImageStorage,
            us_region=True,
        ),
        dicom_files.instance(
            study_uid=study, series_uid=f"{study}.0", sop_uid=f"{study}.2", sop_class=UltrasoundImageStorage
        ),
    ]
    ingest.store_instances(clinic.clinic_id, parts, deps)
    body = {"contacts": patient_data.EMAILS[0], "instances": [f"{study}.1"]}
    alone = json.loads(call(client, "post", f"/studies/{study}/shares", key.plain_text, body).body)
    assert alone["needs_password"] is False
    msgspec.convert(alone, answers.SentShare)  # the answer is what the OpenAPI document says, no more, no less
    assert alone["verdicts"] == [
        {"sop_instance_uid": f"{study}.1", "verdict": "anonymized", "reason": "us_regions_cleaned"}
    ]
    clock.advance(minutes=1)
    both = json.loads(
        call(client, "post", f"/studies/{study}/shares", key.plain_text, {**body, "instances": None}).body
    )
    assert both["status"] == "queued"
    assert both["needs_password"] is True  # announced before the worker has looked
    assert [v["reason"] for v in both["verdicts"]] == ["us_regions_cleaned", "no_usable_us_regions"]
    run_jobs(deps)
    history = json.loads(call(client, "get", f"/studies/{study}/shares", key.plain_text).body)["shares"]
    assert [(h["share_id"], h["needs_password"]) for h in history] == [
        (both["share_id"], True),  # what the worker decided is what was announced
        (alone["share_id"], False),
    ]
    assert history[0]["verdicts"] == both["verdicts"]


def test_a_share_of_instances_indexed_before_verdicts_says_it_does_not_know(client: Client, deps: Deps) -> None:
    clinic, key = accounts.create_clinic("Kliniken Väst", deps)
    study = "1.2.826.0.1.3680043.8.498.903"
    ingest.store_instances(clinic.clinic_id, [dicom_files.instance(study_uid=study, sop_class=CTImageStorage)], deps)
    (stored,) = deps.studies.instances(clinic.clinic_id, study)
    deps.studies.put_instance(replace(stored, verdict=NOT_YET_KNOWN))  # as a row written before verdicts
    sent = json.loads(
        call(client, "post", f"/studies/{study}/shares", key.plain_text, {"contacts": patient_data.EMAILS[0]}).body
    )
    assert sent["needs_password"] is None  # never false when it is not known
    msgspec.convert(sent, answers.SentShare)
    answer = json.loads(client.http.get("/openapi.json").body)["paths"]["/studies/{study_uid}/shares"]["post"]
    assert answer["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SentShare"
    }
    assert sent["verdicts"][0]["verdict"] == "unknown"
    run_jobs(deps)
    (entry,) = json.loads(call(client, "get", f"/studies/{study}/shares", key.plain_text).body)["shares"]
    assert entry["needs_password"] is False  # known once prepared


def test_the_clinics_shares_of_every_study_newest_first_filtered_and_paged(
    client: Client, keys: tuple[str, str], deps: Deps, clock: FakeClock
) -> None:
    sent = []
    for email in (*patient_data.EMAILS, patient_data.EMAILS[0]):
        body = {"contacts": email}
        sent.append(json.loads(call(client, "post", f"/studies/{STUDY}/shares", keys[0], body).body)["share_id"])
        clock.advance(minutes=1)
    deleted = call(client, "delete", f"/shares/{sent[0]}", keys[0])
    assert deleted.status_code == 200

    listed = json.loads(call(client, "get", "/shares", keys[0]).body)
    assert [s["share_id"] for s in listed["shares"]] == sent[::-1]
    assert listed["next_cursor"] is None
    assert {"status", "deliveries", "opens", "downloads", "expires_at", "can_resend"} <= set(listed["shares"][0])

    first = json.loads(call(client, "get", "/shares?limit=2", keys[0]).body)
    assert [s["share_id"] for s in first["shares"]] == [sent[2], sent[1]]
    rest = json.loads(call(client, "get", f"/shares?limit=2&cursor={first['next_cursor']}", keys[0]).body)
    assert [s["share_id"] for s in rest["shares"]] == [sent[0]]
    assert rest["next_cursor"] is None

    only = json.loads(call(client, "get", "/shares?status=deleted", keys[0]).body)
    assert [(s["share_id"], s["status"]) for s in only["shares"]] == [(sent[0], "deleted")]
    live = json.loads(call(client, "get", "/shares?status=live", keys[0]).body)
    assert [s["share_id"] for s in live["shares"]] == [sent[2], sent[1]]
    clock.advance(days=91)
    expired = json.loads(call(client, "get", "/shares?status=expired", keys[0]).body)
    assert [(s["share_id"], s["status"]) for s in expired["shares"]] == [(sent[2], "expired"), (sent[1], "expired")]

    assert json.loads(call(client, "get", "/shares", keys[1]).body) == {"shares": [], "next_cursor": None}
    for bad in ("status=lost", "limit=0", "limit=101", "cursor=nonsense"):
        refused = call(client, "get", f"/shares?{bad}", keys[0])
        assert refused.status_code == 422, bad
        assert json.loads(refused.body)["Code"] == "InvalidInput"
