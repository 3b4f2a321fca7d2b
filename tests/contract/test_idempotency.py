"""The in-memory idempotency store behaves as Powertools' DynamoDB layer does (on moto)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from chalicelib.services.deps import Deps

pytestmark = pytest.mark.contract


def test_a_second_call_returns_the_first_result_per_key(real_or_fake: Deps) -> None:
    calls: list[int] = []
    config = IdempotencyConfig(
        event_key_jmespath="[clinic_id, key]", payload_validation_jmespath="request", raise_on_no_idempotency_key=True
    )

    def work(payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        return {"n": len(calls)}

    run: Any = idempotent_function(
        data_keyword_argument="payload", persistence_store=real_or_fake.idempotency, config=config
    )(work)
    first = run(payload={"clinic_id": "cl_1", "key": "k", "request": {"a": 1}})
    second = run(payload={"clinic_id": "cl_1", "key": "k", "request": {"a": 1}})
    assert first == second == {"n": 1}
    assert run(payload={"clinic_id": "cl_2", "key": "k", "request": {"a": 1}}) == {"n": 2}
    assert run(payload={"clinic_id": "cl_1", "key": "k2", "request": {"a": 1}}) == {"n": 3}
