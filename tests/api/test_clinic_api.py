from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from chalice.test import Client

from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from tests import patient_data


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


@pytest.fixture
def clinic_key(deps: Deps) -> tuple[str, str]:
    clinic, issued = accounts.create_clinic("Kliniken Norr", deps)
    return clinic.clinic_id, issued.plain_text


def test_health_needs_no_key(client: Client) -> None:
    response = client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok", "stage": "local"}


def test_no_key_is_401(client: Client, deps: Deps) -> None:
    response = client.http.get("/clinic")
    assert response.status_code == 401
    assert json.loads(response.body)


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer psk_0123456789abcdef_" + "A" * 43, "Basic dXNlcg=="])
def test_an_unknown_or_malformed_key_is_refused(client: Client, deps: Deps, header: str) -> None:
    response = client.http.get("/clinic", headers={"Authorization": header})
    assert response.status_code == 403
    assert json.loads(response.body)


def test_a_revoked_key_is_403_at_once(client: Client, deps: Deps, clinic_key: tuple[str, str]) -> None:
    _, key = clinic_key
    assert client.http.get("/clinic", headers=bearer(key)).status_code == 200
    accounts.revoke_key(key.split("_")[1], deps)
    response = client.http.get("/clinic", headers=bearer(key))
    assert response.status_code == 403
    assert json.loads(response.body)


def test_the_key_resolves_to_its_clinic(client: Client, clinic_key: tuple[str, str]) -> None:
    clinic_id, key = clinic_key
    response = client.http.get("/clinic", headers=bearer(key))
    assert response.status_code == 200
    assert response.json_body["clinic_id"] == clinic_id
    assert response.json_body["name"] == "Kliniken Norr"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Correlation-Id"]


def test_rename(client: Client, clinic_key: tuple[str, str]) -> None:
    _, key = clinic_key
    response = client.http.patch("/clinic", headers=bearer(key), body=json.dumps({"name": "Kliniken Söder"}))
    assert response.status_code == 200
    assert client.http.get("/clinic", headers=bearer(key)).json_body["name"] == "Kliniken Söder"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ("{not json", 400, "not valid JSON"),
        ("", 400, "JSON object body"),
        ("[1, 2]", 400, "must be a JSON object"),
        ('{"name": 7}', 422, "Expected `str`, got `int` - at `$.name`"),
        ('{"name": "   "}', 422, "must not be empty"),
        (json.dumps({"name": "x" * 500}), 422, "length <= 120 - at `$.name`"),
    ],
)
def test_bad_bodies_get_a_clear_json_error(
    client: Client, clinic_key: tuple[str, str], body: str, status: int, says: str
) -> None:
    _, key = clinic_key
    response = client.http.patch("/clinic", headers=bearer(key), body=body)
    assert response.status_code == status
    error = json.loads(response.body)
    assert says in error["Message"]
    assert "Traceback" not in response.body.decode()


def test_a_wrong_content_type_is_415(client: Client, clinic_key: tuple[str, str]) -> None:
    _, key = clinic_key
    headers = {**bearer(key), "Content-Type": "text/plain"}
    response = client.http.patch("/clinic", headers=headers, body='{"name": "x"}')
    assert response.status_code == 415
    assert json.loads(response.body)


def test_the_sms_country_has_one_name_and_a_refused_patch_changes_nothing(
    client: Client, clinic_key: tuple[str, str]
) -> None:
    _, key = clinic_key
    assert "country" not in client.http.get("/clinic", headers=bearer(key)).json_body
    assert client.http.get("/settings", headers=bearer(key)).json_body["sms_country"] == "SE"
    refused = client.http.patch("/clinic", headers=bearer(key), body=json.dumps({"country": "NO", "name": ""}))
    assert refused.status_code == 422
    assert "unknown field `country`" in refused.json_body["Message"]
    assert client.http.get("/settings", headers=bearer(key)).json_body["sms_country"] == "SE"
    assert client.http.get("/clinic", headers=bearer(key)).json_body["name"] == "Kliniken Norr"


def test_a_clinic_never_reaches_another_clinics_data(client: Client, deps: Deps) -> None:
    north, north_key = accounts.create_clinic("Kliniken Norr", deps)
    south, south_key = accounts.create_clinic("Kliniken Syd", deps)
    assert client.http.get("/clinic", headers=bearer(north_key.plain_text)).json_body["clinic_id"] == north.clinic_id
    assert client.http.get("/clinic", headers=bearer(south_key.plain_text)).json_body["clinic_id"] == south.clinic_id
    client.http.patch("/clinic", headers=bearer(north_key.plain_text), body=json.dumps({"name": "Renamed"}))
    assert deps.clinics.get(south.clinic_id).name == "Kliniken Syd"


def test_every_route_but_the_public_ones_needs_a_clinic_key() -> None:
    from app import app

    # The API document, patients' pages (/p/, /v/), the pages' assets, the clinician's chat page whose calls
    # carry a signed session cookie checked in the route (tests/api/test_chat_pages.py proves each refuses
    # without one), and the console, whose staff sign in there and carry its session cookie
    # (tests/api/test_console.py).
    public = {"/health", "/openapi.json", "/assets/{name}", "/visits/{visit_id}/chat", "/console", "/", "/favicon.ico"}
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            if path in public or path.startswith(("/p/", "/v/", "/visits/{visit_id}/chat/", "/console/")):
                continue
            assert entry.authorizer is not None, f"{method} {path} has no authorizer"


def test_patient_data_in_a_refused_body_never_reaches_the_logs(
    client: Client, clinic_key: tuple[str, str], service_logs: Callable[[], str]
) -> None:
    _, key = clinic_key
    body = json.dumps({"name": 7, "note": f"{patient_data.PATIENT_NAMES[0]} {patient_data.EMAILS[0]}"})
    assert client.http.patch("/clinic", headers=bearer(key), body=body).status_code == 422
    assert client.http.patch("/clinic", headers=bearer(key), body=body[:-3]).status_code == 400
    text = service_logs()
    assert '"message":"request"' in text  # the request log lines were written …
    assert patient_data.leaked(text) == []  # … without the patient's data
