"""Driving the visit chat over the running local stack: start a visit, find its link, upload through S3."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests import patient_data
from tests.e2e.conftest import Stack

MB = 1024 * 1024


def clinician_headers(key: str, clinician: str = "dr.berg") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-Clinician": clinician, "Content-Type": "application/json"}


def newest_link(stack: Stack, to: str) -> str:
    """The visit link in the newest e-mail the outbox holds for ``to``."""
    status, _, body = stack.request("GET", "/_local/outbox", headers={"Accept": "application/json"})
    assert status == 200
    for message in json.loads(body)["messages"]:
        if message["kind"] == "email" and message["to"] == [to]:
            links = [link for link in message["links"] if "/v/" in link]
            assert links, "the e-mail has no visit link"
            return str(links[0])
    pytest.fail("no e-mail to the patient in the outbox")


@dataclass
class Visit:
    """A visit started by the demo clinic, with the patient's browser-like session."""

    stack: Stack
    key: str
    visit_id: str
    link: str
    patient: requests.Session

    @property
    def token(self) -> str:
        return self.link.rsplit("/", 1)[1]

    def clinic(self, method: str, path: str, body: Any = None, clinician: str = "dr.berg") -> requests.Response:
        return requests.request(
            method,
            f"{self.stack.base_url}/visits/{self.visit_id}{path}",
            headers=clinician_headers(self.key, clinician),
            data=None if body is None else json.dumps(body),
            allow_redirects=False,
            timeout=30,
        )

    def as_patient(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.patient.request(method, f"{self.link}{path}", json=body, allow_redirects=False, timeout=30)

    def announce(self, name: str, content_type: str, size: int) -> requests.Response:
        return self.as_patient("POST", "/attachments", {"filename": name, "content_type": content_type, "size": size})

    def send_file(self, name: str, content_type: str, body: bytes, declared_size: int | None = None) -> str:
        """Announce and upload through the pre-signed POST; returns the attachment id."""
        announced = self.announce(name, content_type, declared_size or len(body))
        assert announced.status_code == 201, announced.text
        upload = announced.json()["upload"]
        sent = requests.post(
            upload["url"], data=upload["fields"], files={"file": (name, body, content_type)}, timeout=60
        )
        assert sent.status_code in (200, 201, 204), sent.text
        return str(announced.json()["attachment_id"])

    def settled(self, attachment_id: str, timeout_s: float = 60) -> dict[str, Any]:
        """The file's message once the worker has judged it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            response = self.as_patient("GET", "/messages?limit=200")
            assert response.status_code == 200, response.text
            for message in response.json()["messages"]:
                attachment = message["attachment"]
                if attachment and attachment["attachment_id"] == attachment_id and attachment["status"] != "pending":
                    return dict(attachment)
            time.sleep(0.3)
        pytest.fail("the attachment worker did not settle the file")


def start_visit(stack: Stack, key: str | None = None, contacts: str | None = None) -> Visit:
    """Start a visit for the patient's e-mail (and phone) and open the patient's page, as the patient would."""
    key = key or stack.demo["api_key"]
    contacts = contacts or f"{patient_data.EMAILS[0]}, {patient_data.PHONES[1]}"
    response = requests.post(
        f"{stack.base_url}/visits",
        headers=clinician_headers(key),
        data=json.dumps({"contacts": contacts}),
        timeout=30,
    )
    assert response.status_code == 201, response.text
    link = newest_link(stack, patient_data.EMAILS[0])
    assert re.fullmatch(rf"{re.escape(stack.base_url)}/v/[A-Za-z0-9_-]{{40,64}}", link)
    patient = requests.Session()
    page = patient.get(link, timeout=30)
    assert page.status_code == 200
    return Visit(stack, key, response.json()["visit_id"], link, patient)
