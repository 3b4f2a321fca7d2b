"""``GET /openapi.json``: a valid OpenAPI 3.1 document of exactly the routes the app serves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client
from openapi_spec_validator import validate

from chalicelib.api import openapi


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = json.loads(response.body)
    return body


def registered() -> set[tuple[str, str]]:
    from app import app

    return {(method, path) for path, methods in app.routes.items() for method in methods}


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_it_names_every_route_and_no_other(document: dict[str, Any]) -> None:
    assert documented(document) == registered()
    assert ("GET", "/openapi.json") in registered()


def test_every_model_named_for_a_route_belongs_to_a_registered_route() -> None:
    assert set(openapi.OPERATIONS) <= registered()


def test_bodies_have_their_schema_and_key_routes_their_scheme(document: dict[str, Any]) -> None:
    from app import app

    for (method, path), operation in openapi.OPERATIONS.items():
        if operation.body is not None:
            body = document["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
            assert body["schema"] == {"$ref": f"#/components/schemas/{operation.body.__name__}"}
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            spec = document["paths"][path][method.lower()]
            if entry.authorizer is not None:
                assert spec["security"] == [{"clinicKey": []}]
                assert {"401", "403"} <= set(spec["responses"])
    schemes = document["components"]["securitySchemes"]
    assert schemes["clinicKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["clinicKey"]["description"],
    }
    assert {schemes[name]["in"] for name in ("shareCookie", "patientSession", "clinicianSession")} == {"cookie"}


def test_errors_have_one_shape_per_status(document: dict[str, Any]) -> None:
    assert document["components"]["schemas"]["Error"]["required"] == ["Code", "Message"]
    settings = document["paths"]["/settings"]["put"]
    assert settings["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    model = document["components"]["schemas"]["SettingsChange"]
    assert model["additionalProperties"] is False
    assert set(model["properties"]) == {
        "link_code",
        "link_lifetime_days",
        "language",
        "sms_country",
        "daily_message_limit",
    }


def test_query_strings_come_from_their_models(document: dict[str, Any]) -> None:
    params = {p["name"]: p for p in document["paths"]["/studies"]["get"]["parameters"]}
    assert params["limit"]["schema"]["minimum"] == 1
    qido = {p["name"]: p for p in document["paths"]["/dicomweb/studies"]["get"]["parameters"]}
    assert qido["PatientName"]["schema"]["anyOf"][0]["maxLength"] == 64


def _operations() -> list[tuple[str, str, openapi.Operation]]:
    return [
        (method, path, openapi.OPERATIONS.get((method, path), openapi.Operation()))
        for method, path in sorted(registered())
    ]


def test_every_json_operation_names_its_answer_model() -> None:
    unnamed = [
        f"{method} {path}"
        for method, path, operation in _operations()
        if operation.answers == "application/json" and operation.answer is None
    ]
    assert unnamed == []


def test_each_success_is_published_from_its_answer_model(document: dict[str, Any]) -> None:
    for method, path, operation in _operations():
        responses = document["paths"][path][method.lower()]["responses"]
        if operation.answer is not None:
            ref: dict[str, Any] = {"$ref": f"#/components/schemas/{operation.answer.__name__}"}
            if operation.many:
                ref = {"type": "array", "items": ref}
            for status in (operation.success, *operation.also):
                assert responses[str(status)]["content"][operation.answers]["schema"] == ref, (method, path, status)
            assert document["components"]["schemas"][operation.answer.__name__]["additionalProperties"] is False
        elif operation.answers == "application/dicom+json":  # WADO-RS metadata
            assert (
                responses[str(operation.success)]["content"][operation.answers]["schema"] == openapi.DICOM_JSON_SCHEMA
            )


def test_stow_answers_its_model_for_every_outcome(document: dict[str, Any]) -> None:
    responses = document["paths"]["/dicomweb/studies"]["post"]["responses"]
    stow = {"$ref": "#/components/schemas/StowAnswer"}
    assert {s: responses[s]["content"]["application/dicom+json"]["schema"] for s in ("200", "202", "409")} == {
        "200": stow,
        "202": stow,
        "409": stow,
    }
    assert responses["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert set(document["components"]["schemas"]["StowAnswer"]["properties"]) == {"00081190", "00081199", "00081198"}
