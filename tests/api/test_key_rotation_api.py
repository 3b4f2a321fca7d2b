"""A rotation of the signing key, as browsers and clinics see it: sessions survive one rotation, an instance
that has not read the new key yet still accepts what others signed, and a link that cannot be re-made is
refused with a reason (409), never sent dead."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from chalice.test import Client

from chalicelib import wiring
from chalicelib.services import accounts, ingest, keys
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data
from tests.api.test_chat_pages import api, json_headers, new_visit, open_patient
from tests.fakes import FakeSigningKeys
from tests.unit.test_shares import run_jobs

STUDY = "1.2.826.0.1.3680043.8.498.902"


@pytest.fixture
def deps(deps: Deps) -> Iterator[Deps]:
    """The fakes, with keys re-read whenever asked (the port's rationing is tested on its own)."""
    with wiring.override(replace(deps, keys=FakeSigningKeys(min_refresh_s=0))) as installed:
        yield installed


@pytest.fixture
def key(deps: Deps) -> str:
    return accounts.create_clinic("Kliniken Väst", deps)[1].plain_text


def rotate(deps: Deps) -> None:
    keys.rotate_now(deps)
    deps.keys.key_ring(refresh=True)


def test_a_patient_session_survives_one_rotation_of_the_key_not_two(client: Client, deps: Deps, key: str) -> None:
    _, token = new_visit(client, deps, key)
    _, cookie = open_patient(client, token)
    rotate(deps)
    assert client.http.get(f"/v/{token}/messages", headers=json_headers(cookie)).status_code == 200
    rotate(deps)
    assert client.http.get(f"/v/{token}/messages", headers=json_headers(cookie)).status_code == 401


def test_an_instance_that_has_not_read_the_new_key_yet_accepts_what_others_signed_with_it(
    client: Client, deps: Deps, key: str
) -> None:
    assert isinstance(deps.keys, FakeSigningKeys)
    visit_id, token = new_visit(client, deps, key)
    stale = deps.keys.key_ring()
    rotate(deps)
    _, patient_cookie = open_patient(client, token)  # signed by an instance that read the new key
    ticket = client.http.post(f"/visits/{visit_id}/chat-link", headers=api(key)).json_body["url"].split("=", 1)[1]
    deps.keys.cached = stale  # this instance read the keys before the rotation
    assert client.http.get(f"/v/{token}/messages", headers=json_headers(patient_cookie)).status_code == 200
    deps.keys.cached = stale
    assert client.http.get(f"/visits/{visit_id}/chat?ticket={ticket}").status_code == 200


def test_a_share_older_than_two_rotations_cannot_be_resent_and_the_clinic_is_told_why(
    client: Client, deps: Deps, key: str
) -> None:
    clinic_id = accounts.authenticate(f"Bearer {key}", deps).clinic_id
    ingest.store_instances(clinic_id, [dicom_files.instance(study_uid=STUDY, burned_in="NO")], deps)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    sent = client.http.post(
        f"/studies/{STUDY}/shares", headers=headers, body=json.dumps({"contacts": patient_data.EMAILS[0]})
    )
    share_id = json.loads(sent.body)["share_id"]
    run_jobs(deps)
    rotate(deps)
    assert client.http.post(f"/shares/{share_id}/resend", headers=headers).status_code == 202
    run_jobs(deps)
    rotate(deps)
    refused = client.http.post(f"/shares/{share_id}/resend", headers=headers)
    assert refused.status_code == 409
    assert json.loads(refused.body)["Code"] == "LinkRetired"
    assert "new one" in json.loads(refused.body)["Message"]
