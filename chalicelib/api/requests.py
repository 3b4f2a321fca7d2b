"""Reading the current request: the calling clinic, the JSON body and query string (as models), the headers."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from chalice.app import Chalice, Request

from chalicelib.api.models import Body, Query
from chalicelib.domain.errors import DomainError, InvalidInput, MalformedRequest, TooLarge, Unauthenticated

B = TypeVar("B", bound=Body)
Q = TypeVar("Q", bound=Query)

_app: Chalice | None = None


def bind(app: Chalice) -> None:
    """Tell the helpers which app's current request to read (done once, by ``register``)."""
    global _app
    _app = app


def bound_app() -> Chalice:
    """The app whose requests are being read."""
    if _app is None:
        raise RuntimeError("no app is bound")
    return _app


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


#: The largest JSON body a route reads (the chat's text is the longest field; STOW-RS is not JSON).
MAX_JSON_BYTES = 256 * 1024


def body(model: type[B]) -> B:
    """The JSON body as ``model``: 400 when it is not JSON (or nests too deeply), 413 when too large,
    422 naming the field's path and what was wrong with it."""
    raw = current_request().raw_body
    if not raw:
        raise MalformedRequest("The request needs a JSON object body")
    if len(raw) > MAX_JSON_BYTES:
        raise TooLarge(f"A JSON body may be at most {MAX_JSON_BYTES // 1024} KB")
    try:
        parsed = msgspec.json.decode(raw)
    except msgspec.DecodeError as err:
        raise MalformedRequest(f"The body is not valid JSON ({err})") from err
    except RecursionError as err:
        raise MalformedRequest("The body nests too deeply") from err
    if not isinstance(parsed, dict):
        raise MalformedRequest("The body must be a JSON object")
    try:
        return msgspec.convert(parsed, model)
    except msgspec.ValidationError as err:
        raise InvalidInput(f"Invalid body: {err}") from err


def query(model: type[Q], *, refuse: type[DomainError] = InvalidInput) -> Q:
    """The query string as ``model`` (an empty value counts as absent; the last value wins when a name
    repeats); a bad value raises ``refuse`` (422 unless the route's standard says otherwise), naming it."""
    return query_from({k: v for k, v in query_params().items() if v != ""}, model, refuse=refuse)


def query_from(params: dict[str, str], model: type[Q], *, refuse: type[DomainError] = InvalidInput) -> Q:
    """``params`` (text) as ``model``."""
    try:
        return msgspec.convert(params, model, strict=False)
    except msgspec.ValidationError as err:
        raise refuse(f"Invalid query string: {err}") from err


def query_params() -> dict[str, str]:
    """The query string as a dict (the last value wins when a name repeats)."""
    return dict(current_request().query_params or {})


def lambda_context() -> Any:
    """The Lambda context of the current invocation (None outside Lambda and its emulators)."""
    return getattr(_app, "lambda_context", None)
