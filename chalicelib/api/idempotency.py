"""``Idempotency-Key``: a retried request gets the first answer again and does nothing twice.

Powertools stores the first response for 24 hours under (clinic, key). The same key with a different
request body is refused (422): it is a client bug, and answering with the other request's result would
hide it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from chalicelib.api.requests import current_request, lambda_context
from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.wiring import deps

TTL_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255


def once(
    clinic_id: str, request: dict[str, Any], compute: Callable[[], dict[str, Any]], *, key: str | None = None
) -> dict[str, Any]:
    """``compute()``, or the stored result of the first request with the same Idempotency-Key.

    ``key`` is the key when the request carries it elsewhere than in the header (a console form's field).
    """
    key = (current_request().headers.get("idempotency-key") if key is None else key) or ""
    key = key.strip()
    if not key:
        return compute()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"'Idempotency-Key' must be 1 to {MAX_KEY_LENGTH} printable characters")

    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    config = IdempotencyConfig(
        event_key_jmespath="[clinic_id, key]", expires_after_seconds=TTL_SECONDS, raise_on_no_idempotency_key=True
    )
    context = lambda_context()
    if context is not None:
        config.register_lambda_context(context)  # so a crashed attempt's lock expires with the invocation
    # Powertools skips its own payload validation when the conditional put hands back the old record,
    # so the stored answer carries the request's fingerprint and it is compared here.
    fingerprint = hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()

    def run(payload: dict[str, Any]) -> dict[str, Any]:
        return {"request": fingerprint, "response": compute()}

    guarded: Any = idempotent_function(
        data_keyword_argument="payload", persistence_store=deps().idempotency, config=config
    )(run)
    try:
        stored: dict[str, Any] = guarded(payload={"clinic_id": clinic_id, "key": key})
    except IdempotencyAlreadyInProgressError as err:
        raise Conflict("A request with this Idempotency-Key is still being handled; retry in a moment") from err
    if stored["request"] != fingerprint:
        raise InvalidInput("This Idempotency-Key was used with a different request")
    response: dict[str, Any] = stored["response"]
    return response
