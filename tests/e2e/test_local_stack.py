"""`make run`'s stack over HTTP: health, the outbox, the demo clinic, the admin command against it."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests import patient_data
from tests.e2e.chat_helpers import start_visit
from tests.e2e.conftest import READY_WITHIN_S, ROOT, Stack

pytestmark = pytest.mark.e2e


def test_health_and_outbox_answer_within_30_seconds(stack: Stack) -> None:
    assert stack.started_in_s < READY_WITHIN_S
    assert stack.json("GET", "/health") == (200, {"status": "ok", "stage": "local"})
    status, headers, body = stack.request("GET", "/_local/outbox")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"Local outbox" in body


def test_the_demo_clinic_key_works(stack: Stack) -> None:
    assert stack.demo["base_url"] == stack.base_url
    status, clinic = stack.json("GET", "/clinic", key=stack.demo["api_key"])
    assert status == 200
    assert clinic["name"] == "Demo Clinic"


def test_the_demo_studies_are_indexed_and_found_by_a_lower_case_name(stack: Stack) -> None:
    """make run seeds an ultrasound image (regions and a burned-in band) and a short cine, as STOW would."""
    assert [p["patient_id"] for p in stack.demo["demo_patients"]] == ["DEMO-1001", "DEMO-1002"]
    for wanted, frames in (("lind maja", 1), ("berg olof", 24)):  # other tests add a Lindqvist
        deadline = time.monotonic() + 60  # the ingest worker indexes them in the background
        while True:
            status, found = stack.json("GET", f"/studies?q={urllib.parse.quote(wanted)}", key=stack.demo["api_key"])
            assert status == 200
            if found["studies"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        (study,) = found["studies"]
        assert study["modalities"] == ["US"]
        assert study["number_of_instances"] == 1
        assert next(p for p in stack.demo["demo_patients"] if p["name"] == study["patient_name"])["frames"] == frames


def admin(stack: Stack, *argv: str) -> tuple[int, dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.admin", *argv], cwd=ROOT, env=stack.env, capture_output=True, text=True
    )
    return result.returncode, json.loads(result.stdout or result.stderr)


def test_the_admin_command_manages_keys_on_the_running_stack(stack: Stack) -> None:
    code, clinic = admin(stack, "create-clinic", "Kliniken E2E")
    assert code == 0
    key = str(clinic["api_key"])
    assert stack.json("GET", "/clinic", key=key) == (
        200,
        {**stack.json("GET", "/clinic", key=key)[1], "clinic_id": clinic["clinic_id"]},
    )

    code, second = admin(stack, "create-key", str(clinic["clinic_id"]))
    assert code == 0
    code, _ = admin(stack, "revoke-key", str(clinic["key_id"]))
    assert code == 0

    status, error = stack.json("GET", "/clinic", key=key)
    assert status == 403
    assert error
    assert stack.json("GET", "/clinic", key=str(second["api_key"]))[0] == 200
    status, _, body = stack.request("GET", "/clinic")
    assert status == 401
    assert json.loads(body)


def test_malformed_bodies_get_json_errors_over_http(stack: Stack) -> None:
    key = stack.demo["api_key"]
    status, _, body = stack.request("PATCH", "/clinic", key=key, body=b"{oops")
    assert status == 400
    assert "not valid JSON" in json.loads(body)["Message"]
    status, error = stack.json("PATCH", "/clinic", key=key, body={"name": ""})
    assert status == 422
    assert "must not be empty" in error["Message"]


def test_the_outbox_lists_email_and_sms_newest_first_with_links(stack: Stack) -> None:
    ses = boto3.client(
        "ses",
        endpoint_url=stack.aws_endpoint,
        region_name="eu-north-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    sns = boto3.client(
        "sns",
        endpoint_url=stack.aws_endpoint,
        region_name="eu-north-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    ses.send_email(
        Source="no-reply@patient-share.local",
        Destination={"ToAddresses": [patient_data.EMAILS[0]]},
        Message={"Subject": {"Data": "Your images"}, "Body": {"Text": {"Data": f"Open {stack.base_url}/p/first"}}},
    )
    sns.publish(PhoneNumber=patient_data.PHONES[0], Message=f"Your images: {stack.base_url}/p/second")

    status, headers, body = stack.request("GET", "/_local/outbox", headers={"Accept": "application/json"})
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    messages = json.loads(body)["messages"]
    assert [m["kind"] for m in messages[:2]] == ["sms", "email"]
    assert messages[0]["links"] == [f"{stack.base_url}/p/second"]
    assert messages[1]["to"] == [patient_data.EMAILS[0]]
    assert messages[1]["subject"] == "Your images"

    html = stack.request("GET", "/_local/outbox")[2].decode()
    assert f'<a href="{stack.base_url}/p/second">' in html
    assert html.index("/p/second") < html.index("/p/first")


def test_the_demo_file_is_private(stack: Stack, tmp_path: Path) -> None:
    demo_file = Path(stack.env["LOCAL_STATE_DIR"]) / "demo.json"
    assert demo_file.stat().st_mode & 0o077 == 0


def test_the_admin_command_rotates_the_signing_key_the_running_stack_reads(stack: Stack) -> None:
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=stack.aws_endpoint,
        region_name="eu-north-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    name = "patient-share-local-secret-key"  # make run's stage and prefix; no key in any environment
    assert not {k for k in stack.env if "SECRET_KEY" in k or k == "SIGNING_SECRET_ARN"}
    before = secrets.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
    assert len(before) >= 32
    visit = start_visit(stack)  # a patient session, signed under the key before the rotation

    code, rotated = admin(stack, "rotate-secret")
    assert code == 0
    after = secrets.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
    assert after["VersionId"] == rotated["version"]
    assert after["SecretString"] != before
    assert secrets.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == before
    assert visit.as_patient("GET", "/messages").status_code == 200


def test_sixty_four_parallel_clients_are_served_without_a_reset(stack: Stack) -> None:
    """Each client opens its own connection at once (Chalice's dev server's backlog of 5 reset them)."""
    host, port = stack.base_url.removeprefix("http://").split(":")
    barrier = threading.Barrier(64)

    def one() -> bytes:
        barrier.wait()
        # The kernel completes a handshake at once while the backlog has room; past it, the SYN is
        # dropped (or reset) and only retried after a second: 0.9 s tells the two apart.
        with socket.create_connection((host, int(port)), timeout=0.9) as conn:
            conn.settimeout(30)
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return conn.recv(64)

    with ThreadPoolExecutor(max_workers=64) as pool:
        answers = list(pool.map(lambda _: one(), range(64)))
    assert all(a.startswith(b"HTTP/1.") and b" 200 " in a for a in answers)


def test_the_demo_admin_signs_in_to_the_console_at_once(stack: Stack) -> None:
    """On the running stack (moto's cognito-idp in server mode, its JWKS fetched over HTTP): the demo admin's
    password is permanent, so the sign-in goes straight to the console."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    assert stack.demo["console_url"] == f"{stack.base_url}/console"
    opener = urllib.request.build_opener(NoRedirect)
    _, headers, page = stack.request("GET", "/console/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', page.decode())
    assert token is not None
    fields = {"csrf": token.group(1), "email": stack.demo["staff_email"], "password": stack.demo["staff_password"]}
    request = urllib.request.Request(
        f"{stack.base_url}/console/sign-in",
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": headers["Set-Cookie"].split(";", 1)[0],  # the sign-in page's login-CSRF cookie
        },
    )
    with pytest.raises(urllib.error.HTTPError) as raised:  # urllib reports a redirect it does not follow so
        opener.open(request, timeout=30)
    redirect = raised.value
    assert redirect.code == 303
    assert redirect.headers["Location"] == "/console"
    cookie = redirect.headers["Set-Cookie"].split(";", 1)[0]
    status, _, body = stack.request("GET", "/console/studies", headers={"Cookie": cookie, "Accept-Language": "en"})
    assert status == 200
    assert stack.demo["staff_email"] in body.decode()
