"""The visit chat driven in-process on moto as it runs in AWS: the clinic's API (Chalice's test client),
the browser's upload through the pre-signed POST, S3's event through SQS to the attachment worker, and
the download through the pre-signed GET."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests
from chalice.app import Chalice
from chalice.test import Client

from chalicelib import api
from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from chalicelib.settings import settings
from local.events import SqsPump
from tests import patient_data


def clinic_headers(key: str, clinician: str = "dr.berg") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "X-Clinician": clinician}


@dataclass
class ChatVisit:
    """A visit of a new clinic, reached through the clinic's API."""

    client: Client
    key: str
    key_id: str
    visit_id: str

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return getattr(self.client.http, method)(
            f"/visits/{self.visit_id}{path}",
            headers=clinic_headers(self.key),
            body=None if body is None else json.dumps(body),
        )

    def announce(self, filename: str, content_type: str, size: int) -> dict[str, Any]:
        response = self.call("post", "/attachments", {"filename": filename, "content_type": content_type, "size": size})
        assert response.status_code == 201, response.body
        return dict(response.json_body)

    def upload(self, announced: dict[str, Any], filename: str, content_type: str, body: bytes) -> None:
        """POST the file to S3 with the announced form, as the page's script does."""
        form = announced["upload"]
        sent = requests.post(
            form["url"], data=form["fields"], files={"file": (filename, body, content_type)}, timeout=30
        )
        assert sent.status_code in (200, 201, 204), sent.text

    def attachment(self, attachment_id: str) -> dict[str, Any]:
        """The file's message as the clinic reads it."""
        messages = self.call("get", "/messages?limit=200").json_body["messages"]
        (found,) = [m["attachment"] for m in messages if (m["attachment"] or {}).get("attachment_id") == attachment_id]
        return dict(found)

    def download(self, attachment_id: str, suffix: str = "") -> requests.Response:
        """Follow the API's 302 to the pre-signed GET and fetch the file from S3."""
        redirect = self.call("get", f"/attachments/{attachment_id}{suffix}")
        assert redirect.status_code == 302, redirect.body
        served = requests.get(redirect.headers["Location"], timeout=30)
        assert served.status_code == 200
        return served


def start_visit(client: Client, deps: Deps) -> ChatVisit:
    """A new clinic starts a visit (its link goes out by e-mail)."""
    _, issued = accounts.create_clinic("Kliniken Väst", deps)
    response = client.http.post(
        "/visits", headers=clinic_headers(issued.plain_text), body=json.dumps({"contacts": patient_data.EMAILS[0]})
    )
    assert response.status_code == 201, response.body
    return ChatVisit(client, issued.plain_text, issued.key.key_id, response.json_body["visit_id"])


def run_attachment_worker() -> int:
    """Hand what S3 has queued to the media workers, in Lambda's event format; returns how many messages."""
    workers = Chalice(app_name="media-workers")
    api.register_media(workers)
    pump = SqsPump(workers, settings(), retry_delay_s=0)
    handled = 0
    while delivered := pump.run_once():
        handled += delivered
    return handled
