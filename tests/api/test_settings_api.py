from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain import links
from chalicelib.services import accounts
from chalicelib.services.deps import Deps


@pytest.fixture
def key(deps: Deps) -> str:
    return accounts.create_clinic("Kliniken Norr", deps)[1].plain_text


def put(client: Client, key: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return client.http.put("/settings", headers=headers, body=json.dumps(body))


def test_defaults_then_changes(client: Client, key: str, deps: Deps) -> None:
    got = client.http.get("/settings", headers={"Authorization": f"Bearer {key}"})
    assert json.loads(got.body) == {
        "link_code_set": False,
        "link_lifetime_days": 90,
        "language": "sv",
        "sms_country": "SE",
        "daily_message_limit": 500,
    }
    changed = put(
        client,
        key,
        {
            "link_code": "4711",
            "link_lifetime_days": 30,
            "language": "en",
            "sms_country": "no",
            "daily_message_limit": 80,
        },
    )
    assert json.loads(changed.body) == {
        "link_code_set": True,
        "link_lifetime_days": 30,
        "language": "en",
        "sms_country": "NO",
        "daily_message_limit": 80,
    }
    (clinic,) = deps.clinics.rows.values()  # type: ignore[attr-defined]
    assert links.secret_matches("4711", clinic.link_code_hash)
    assert "4711" not in changed.body.decode()
    removed = put(client, key, {"link_code": None})
    assert json.loads(removed.body)["link_code_set"] is False


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"link_lifetime_days": 366}, "lifetime"),
        ({"link_lifetime_days": "30"}, "got `str` - at `$.link_lifetime_days`"),
        ({"link_code": "12"}, "4 to 32"),
        ({"language": "fi"}, "'language'"),
        ({"sms_country": "XX"}, "country"),
        ({"colour": "blue"}, "unknown field `colour`"),
        ({"daily_message_limit": 0}, "1 to 20000"),
        ({"daily_message_limit": 20001}, "1 to 20000"),
        ({"daily_message_limit": True}, "got `bool` - at `$.daily_message_limit`"),
    ],
)
def test_bad_settings(client: Client, key: str, body: Any, says: str) -> None:
    response = put(client, key, body)
    assert response.status_code == 422
    assert says in json.loads(response.body)["Message"]
