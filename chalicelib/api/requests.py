"""Reading the current request: the calling clinic, the JSON body, the headers."""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Chalice, Request

from chalicelib.domain.errors import MalformedRequest, Unauthenticated

_app: Chalice | None = None


def bind(app: Chalice) -> None:
    """Tell the helpers which app's current request to read (done once, by ``register``)."""
    global _app
    _app = app


def current_request() -> Request:
    """The request being handled."""
    if _app is None or _app.current_request is None:
        raise RuntimeError("no request is being handled")
    return _app.current_request


def current_clinic() -> str:
    """The id of the clinic whose API key the authorizer accepted."""
    clinic_id = _authorizer().get("principalId")
    if not isinstance(clinic_id, str) or not clinic_id.startswith("cl_"):
        raise Unauthenticated("Send the API key as 'Authorization: Bearer <key>'")
    return clinic_id


def current_key_id() -> str:
    """The id of the API key the authorizer accepted (``api/auth.py`` puts it in its context)."""
    key_id = _authorizer().get("key_id")
    if not isinstance(key_id, str) or not key_id:
        raise Unauthenticated("Send the API key as 'Authorization: Bearer <key>'")
    return key_id


def _authorizer() -> dict[str, Any]:
    authorizer = (current_request().context or {}).get("authorizer") or {}
    return authorizer if isinstance(authorizer, dict) else {}


def json_object() -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says what is wrong with it."""
    raw = current_request().raw_body
    if not raw:
        raise MalformedRequest("The request needs a JSON object body")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MalformedRequest(f"The body is not valid JSON (at character {_position(err)})") from err
    if not isinstance(body, dict):
        raise MalformedRequest("The body must be a JSON object")
    return body


def _position(err: Exception) -> int:
    return getattr(err, "pos", 0) or getattr(err, "start", 0)


def query_params() -> dict[str, str]:
    """The query string as a dict (the last value wins when a name repeats)."""
    return dict(current_request().query_params or {})


def lambda_context() -> Any:
    """The Lambda context of the current invocation (None outside Lambda and its emulators)."""
    return getattr(_app, "lambda_context", None)
