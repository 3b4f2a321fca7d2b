"""Inputs an attacker or a buggy client sends: each gets a clear 4xx naming what was wrong, never a 500."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from chalice.test import Client

from chalicelib.api.requests import MAX_JSON_BYTES
from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from tests import patient_data


@pytest.fixture
def key(deps: Deps) -> str:
    return accounts.create_clinic("Kliniken Norr", deps)[1].plain_text


def send(client: Client, method: str, path: str, key: str, body: str | bytes | None = None, **headers: str) -> Any:
    sent = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "X-Clinician": "dr.berg", **headers}
    return getattr(client.http, method)(path, headers=sent, body=body)


def refusal(response: Any, status: int) -> str:
    assert response.status_code == status, response.body
    error = json.loads(response.body)
    assert set(error) == {"Code", "Message"}
    message: str = error["Message"]
    assert "Traceback" not in message
    return message


JSON_ROUTES = [
    ("put", "/settings"),
    ("patch", "/clinic"),
    ("post", "/studies/1.2.3/shares"),
    ("post", "/studies/uploads"),
    ("post", "/visits"),
]


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
def test_deeply_nested_json_is_400(client: Client, key: str, method: str, path: str) -> None:
    deep = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert "nests too deeply" in refusal(send(client, method, path, key, deep), 400)
    nested = '{"name": ' + "[" * 200 + "]" * 200 + "}"
    assert "name`" in refusal(send(client, method, path, key, nested), 422)  # `$.name`, or the unknown field


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
def test_empty_and_huge_bodies(client: Client, key: str, method: str, path: str) -> None:
    assert "JSON object body" in refusal(send(client, method, path, key, ""), 400)
    huge = json.dumps({"contacts": "x" * MAX_JSON_BYTES})
    assert "at most" in refusal(send(client, method, path, key, huge), 413)


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("put", "/settings", "link_lifetime_days"),
        ("put", "/settings", "daily_message_limit"),
        ("post", "/studies/uploads", "files"),
        ("post", "/studies/1.2.3/shares", "lifetime_days"),
    ],
)
@pytest.mark.parametrize("number", ["1e400", "123456789012345678901234567890", "-1", "2.5", "true", '"7"'])
def test_numbers_out_of_range_or_of_the_wrong_type_are_422_naming_the_field(
    client: Client, key: str, method: str, path: str, field: str, number: str
) -> None:
    response = send(client, method, path, key, f'{{"{field}": {number}}}')
    if number == "1e400":  # not a number JSON can carry: a parse error
        refusal(response, 400)
    else:
        assert f"`$.{field}`" in refusal(response, 422)


def test_wrong_types_name_the_path_inside_a_list(client: Client, key: str) -> None:
    body = json.dumps({"contacts": patient_data.EMAILS[0], "instances": ["1.2", 3]})
    assert "`$.instances[1]`" in refusal(send(client, "post", "/studies/1.2.3/shares", key, body), 422)


def test_a_wrong_content_type_is_415(client: Client, key: str) -> None:
    response = send(client, "post", "/visits", key, '{"contacts": "x"}', **{"Content-Type": "text/plain"})
    assert response.status_code == 415


@pytest.mark.parametrize(
    "path",
    [
        "/studies?limit=%C2%B2",  # '²': str.isdigit() says yes, int() says no
        "/studies?offset=%C2%B2",
        "/studies?limit=%EF%BC%91%EF%BC%92",  # full-width digits
        "/studies?limit=0x10",
        "/visits/vi_x/messages?after=%C2%B2",
    ],
)
def test_query_integers_take_ascii_digits_only(client: Client, key: str, path: str) -> None:
    assert "Invalid query string" in refusal(send(client, "get", path, key), 422)


def test_qido_refuses_bad_integers_and_long_patterns_with_400(client: Client, key: str) -> None:
    assert "`$.limit`" in refusal(send(client, "get", "/dicomweb/studies?limit=%C2%B2", key), 400)
    long = "*a" * 33
    assert "`$.PatientName`" in refusal(send(client, "get", f"/dicomweb/studies?PatientName={long}", key), 400)
    assert send(client, "get", f"/dicomweb/studies?PatientName={long[:64]}", key).status_code == 200


def test_a_search_for_stars_alone_is_an_empty_answer(client: Client, key: str) -> None:
    response = send(client, "get", "/studies?q=*****", key)
    assert response.status_code == 200
    assert response.json_body["studies"] == []


@pytest.mark.parametrize("value", ["åäö", "\u00a0", "🙂" * 3, "a\u0000b"])
def test_non_ascii_ids_tokens_and_tickets_are_4xx(client: Client, key: str, value: str) -> None:
    quoted = quote(value, safe="")
    for path in (f"/visits/{quoted}", f"/shares/{quoted}/resend", f"/studies/uploads/{quoted}"):
        method = "post" if path.endswith("resend") else "get"
        assert 400 <= send(client, method, path, key).status_code < 500
    for path in (
        f"/p/{quoted}",
        f"/v/{quoted}",
        f"/visits/vi_1/chat?ticket={quoted}",
        f"/visits/vi_1/chat?ticket=a.{quoted}",
    ):
        assert 400 <= client.http.get(path).status_code < 500
    assert 400 <= client.http.get("/clinic", headers={"Authorization": f"Bearer psk_{quoted}_x"}).status_code < 500
