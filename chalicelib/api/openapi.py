"""``GET /openapi.json``: the API as an OpenAPI 3.1 document, made from the routes Chalice registered
and the request models of ``api/models.py``.

The paths, methods, path parameters, authorizers and content types come from the app itself, so a
route cannot be left out; what a route reads (its body and query models) is named once, in
``OPERATIONS``, and its schema comes from the model. The document is built on the first request, so
the cold start does not pay for it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from chalice.app import Blueprint, Chalice, Response

from chalicelib.api import answers, models
from chalicelib.api.answers import Answer
from chalicelib.api.errors import STATUS
from chalicelib.api.patient import UNLOCK_COOKIE
from chalicelib.api.requests import bound_app
from chalicelib.api.responses import ok
from chalicelib.api.sessions import CLINICIAN_COOKIE, PATIENT_COOKIE
from chalicelib.settings import settings

bp = Blueprint(__name__)

#: Every error answer has this shape (Chalice's own errors and ours alike).
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"Code": {"type": "string"}, "Message": {"type": "string"}},
    "required": ["Code", "Message"],
}
#: What API Gateway answers itself when its authorizer refuses a key (401 no header, 403 denied):
#: ``{"message": ...}`` or ``{"Message": ...}``, not our shape, since the request never reaches the app.
GATEWAY_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "Message": {"type": "string"}},
}
_REASONS = {
    400: "The request cannot be parsed",
    401: "No credentials, or no valid session",
    403: "The credentials are refused",
    404: "No such resource (or not the caller's)",
    406: "The Accept header admits none of the media types answered here",
    409: "A conflict with the resource's state",
    410: "The resource has expired or was deleted",
    413: "The body is over a limit",
    415: "The Content-Type is not taken here",
    422: "The request is well formed but a value is wrong (the message names its path)",
    423: "Locked for a while (see Retry-After)",
    429: "Too many requests (see Retry-After)",
    500: "An internal error (logged, without the request's content)",
    502: "A message could not be delivered",
    503: "A storage or messaging service failed for a moment (see Retry-After)",
}


_RETRY_AFTER = {423, 429, 503}


@dataclass(frozen=True)
class Operation:
    """What a route reads, beyond its path: a JSON body model, a query model, and what it answers."""

    body: type[models.Body] | None = None
    query: type[models.Query] | None = None
    form: tuple[str, ...] | None = None
    answers: str = "application/json"
    success: int = 200
    see_other: bool = False
    """Also answers 303 to where the body is (a WADO-RS answer too large for a Lambda response)."""
    answer: type[Answer] | None = None
    """The model of the JSON answer (every JSON operation names one; see ``DICOM_JSON_SCHEMA`` for the others)."""
    many: bool = False
    """The answer is a JSON array of ``answer`` (QIDO-RS results)."""
    also: tuple[int, ...] = ()
    """Other statuses that answer with the same model (STOW-RS: 202 when some instances failed, 409 when all did)."""


#: WADO-RS metadata: DICOM JSON datasets (PS3.18 F.2) of whatever the stored files hold, so their schema is
#: DICOM JSON's own rather than a model (STOW-RS answers and QIDO-RS results have theirs).
DICOM_JSON_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "propertyNames": {"pattern": "^[0-9A-F]{8}$"},
        "additionalProperties": {
            "type": "object",
            "properties": {
                "vr": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "Value": {"type": "array"},
                "BulkDataURI": {"type": "string"},
                "InlineBinary": {"type": "string"},
            },
            "required": ["vr"],
        },
    },
}

_WADO = Operation(answers="multipart/related", see_other=True)
_WADO_METADATA = Operation(answers="application/dicom+json", see_other=True)
_STOW = Operation(answers="application/dicom+json", answer=answers.StowAnswer, also=(202, 409))

_PAGE = Operation(query=models.MessagePageQuery, answer=answers.MessagePage)
_POSTED = Operation(body=models.TextMessage, success=201, answer=answers.MessageAnswer)
_ANNOUNCED = Operation(body=models.AttachmentAnnouncement, success=201, answer=answers.RequestedAttachment)
_SAVED = Operation(answer=answers.MessageAnswer)

#: Every route's operation: what it reads (a body, a query string, a form) and what it answers.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation(answer=answers.Health),
    ("GET", "/openapi.json"): Operation(answer=answers.OpenApiDocument),
    ("GET", "/clinic"): Operation(answer=answers.ClinicAnswer),
    ("PATCH", "/clinic"): Operation(body=models.ClinicChange, answer=answers.ClinicAnswer),
    ("GET", "/settings"): Operation(answer=answers.SettingsAnswer),
    ("PUT", "/settings"): Operation(body=models.SettingsChange, answer=answers.SettingsAnswer),
    ("GET", "/studies"): Operation(query=models.StudySearch, answer=answers.StudyList),
    ("GET", "/studies/{study_uid}"): Operation(answer=answers.StudyDetail),
    ("POST", "/studies/uploads"): Operation(body=models.UploadRequest, success=201, answer=answers.RequestedUpload),
    ("GET", "/studies/uploads/{upload_id}"): Operation(answer=answers.UploadAnswer),
    ("GET", "/dicomweb/studies"): Operation(
        query=models.QidoSearch, answers="application/dicom+json", answer=answers.QidoStudy, many=True
    ),
    ("POST", "/dicomweb/studies"): _STOW,
    ("POST", "/dicomweb/studies/{study_uid}"): _STOW,
    ("GET", "/dicomweb/studies/{study_uid}"): _WADO,
    ("GET", "/dicomweb/studies/{study_uid}/series/{series_uid}"): _WADO,
    ("GET", "/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"): _WADO,
    ("GET", "/dicomweb/studies/{study_uid}/metadata"): _WADO_METADATA,
    ("GET", "/dicomweb/studies/{study_uid}/series/{series_uid}/metadata"): _WADO_METADATA,
    ("GET", "/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}/metadata"): _WADO_METADATA,
    ("POST", "/studies/{study_uid}/shares"): Operation(body=models.ShareRequest, success=202, answer=answers.SentShare),
    ("GET", "/studies/{study_uid}/shares"): Operation(answer=answers.ShareHistory),
    ("POST", "/shares/{share_id}/resend"): Operation(success=202, answer=answers.ResentShare),
    ("DELETE", "/shares/{share_id}"): Operation(answer=answers.ShareAnswer),
    ("GET", "/shares"): Operation(query=models.ShareListQuery, answer=answers.SharePage),
    ("POST", "/visits"): Operation(body=models.VisitRequest, success=201, answer=answers.VisitAnswer),
    ("GET", "/visits/{visit_id}"): Operation(answer=answers.VisitAnswer),
    ("POST", "/visits/{visit_id}/close"): Operation(answer=answers.ClosedVisit),
    ("GET", "/visits/{visit_id}/messages"): Operation(query=models.MessagePageQuery, answer=answers.MessagePage),
    ("POST", "/visits/{visit_id}/messages"): _POSTED,
    ("POST", "/visits/{visit_id}/attachments"): _ANNOUNCED,
    ("POST", "/visits/{visit_id}/attachments/{attachment_id}/saved"): _SAVED,
    ("GET", "/visits/{visit_id}/attachments/{attachment_id}"): Operation(answers="redirect", success=302),
    ("GET", "/visits/{visit_id}/attachments/{attachment_id}/preview"): Operation(answers="redirect", success=302),
    ("POST", "/visits/{visit_id}/chat-link"): Operation(success=201, answer=answers.ChatLink),
    ("GET", "/p/{token}"): Operation(answers="text/html"),
    ("POST", "/p/{token}/unlock"): Operation(form=("secret",), answers="redirect", success=303),
    ("POST", "/p/{token}/code"): Operation(form=(), answers="redirect", success=303),
    ("POST", "/p/{token}/password"): Operation(form=("password",), answers="redirect", success=303),
    ("GET", "/p/{token}/files/{index}"): Operation(answers="redirect", success=302),
    ("GET", "/v/{token}"): Operation(answers="text/html"),
    ("GET", "/v/{token}/messages"): _PAGE,
    ("POST", "/v/{token}/messages"): _POSTED,
    ("POST", "/v/{token}/attachments"): _ANNOUNCED,
    ("GET", "/v/{token}/attachments/{attachment_id}"): Operation(answers="redirect", success=302),
    ("GET", "/v/{token}/attachments/{attachment_id}/preview"): Operation(answers="redirect", success=302),
    ("GET", "/visits/{visit_id}/chat"): Operation(answers="text/html"),
    ("GET", "/visits/{visit_id}/chat/messages"): _PAGE,
    ("POST", "/visits/{visit_id}/chat/messages"): _POSTED,
    ("POST", "/visits/{visit_id}/chat/attachments"): _ANNOUNCED,
    ("POST", "/visits/{visit_id}/chat/attachments/{attachment_id}/saved"): _SAVED,
    ("POST", "/visits/{visit_id}/chat/close"): Operation(answer=answers.ClosedVisit),
    ("GET", "/visits/{visit_id}/chat/attachments/{attachment_id}"): Operation(answers="redirect", success=302),
    ("GET", "/visits/{visit_id}/chat/attachments/{attachment_id}/preview"): Operation(answers="redirect", success=302),
    ("GET", "/assets/{name}"): Operation(answers="text/plain"),
    ("GET", "/"): Operation(answers="redirect", success=303),
    ("GET", "/favicon.ico"): Operation(answers="redirect", success=303),
    ("GET", "/console"): Operation(answers="redirect", success=303),
    ("GET", "/console/sign-in"): Operation(answers="text/html"),
    ("POST", "/console/sign-in"): Operation(form=("email", "password"), answers="redirect", success=303),
    ("POST", "/console/challenge"): Operation(form=("token", "response"), answers="redirect", success=303),
    ("GET", "/console/settings"): Operation(answers="text/html"),
    ("POST", "/console/settings/staff"): Operation(form=("csrf", "email", "role"), answers="redirect", success=303),
    ("POST", "/console/settings/staff/{staff_id}/enabled"): Operation(
        form=("csrf", "enabled"), answers="redirect", success=303
    ),
    ("POST", "/console/sign-out"): Operation(form=("csrf",), answers="redirect", success=303),
    ("GET", "/console/security"): Operation(answers="text/html"),
    ("POST", "/console/security/totp"): Operation(form=("csrf", "password"), answers="text/html"),
    ("POST", "/console/security/totp/confirm"): Operation(
        form=("csrf", "setup", "code"), answers="redirect", success=303
    ),
    ("POST", "/console/settings/links"): Operation(
        form=(
            "csrf",
            "link_code",
            "remove_link_code",
            "link_lifetime_days",
            "language",
            "sms_country",
            "daily_message_limit",
        ),
        answers="redirect",
        success=303,
    ),
    ("GET", "/console/visits"): Operation(answers="text/html"),
    ("POST", "/console/visits"): Operation(form=("csrf", "contacts", "language"), answers="redirect", success=303),
    ("GET", "/console/visits/{visit_id}"): Operation(answers="text/html"),
    ("POST", "/console/visits/{visit_id}/close"): Operation(form=("csrf",), answers="redirect", success=303),
    ("GET", "/console/visits/{visit_id}/chat"): Operation(answers="redirect", success=303),
    ("GET", "/console/upload"): Operation(answers="text/html"),
    ("POST", "/console/upload/batches"): Operation(
        body=models.UploadRequest, success=201, answer=answers.RequestedUpload
    ),
    ("GET", "/console/upload/batches/{upload_id}"): Operation(answer=answers.ExplainedUpload),
    ("GET", "/console/studies"): Operation(query=models.ConsoleStudySearch, answers="text/html"),
    ("GET", "/console/studies/{study_uid}"): Operation(answers="text/html"),
    ("POST", "/console/studies/{study_uid}/review"): Operation(
        form=("csrf", "contacts", "language", "lifetime_days", "all", "series", "instance"), answers="text/html"
    ),
    ("POST", "/console/studies/{study_uid}/send"): Operation(
        form=("csrf", "key", "contacts", "language", "lifetime_days", "all", "instance"), answers="text/html"
    ),
    ("POST", "/console/contacts/check"): Operation(body=models.ContactsCheck, answer=answers.ContactsVerdict),
    ("GET", "/console/shares"): Operation(query=models.ShareListQuery, answers="text/html"),
    ("GET", "/console/shares/{share_id}"): Operation(answers="text/html"),
    ("GET", "/console/shares/{share_id}/delete"): Operation(answers="text/html"),
    ("POST", "/console/shares/{share_id}/resend"): Operation(form=("csrf",), answers="redirect", success=303),
    ("POST", "/console/shares/{share_id}/delete"): Operation(form=("csrf",), answers="redirect", success=303),
    ("POST", "/console/shares/{share_id}/unlock"): Operation(form=("csrf",), answers="redirect", success=303),
}

#: Which page cookie a public route's calls carry (the routes the page's script calls, by prefix).
_COOKIES = (
    (re.compile(r"^/p/\{token\}"), "shareCookie"),
    (re.compile(r"^/v/\{token\}/"), "patientSession"),
    (re.compile(r"^/visits/\{visit_id\}/chat/"), "clinicianSession"),
)


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    """This API as an OpenAPI 3.1 document."""
    import msgspec

    return ok(msgspec.convert(document(), answers.OpenApiDocument))


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI document of the app the requests module is bound to."""
    return build(bound_app())


def build(app: Chalice) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s routes."""
    import msgspec

    used = sorted({m for op in OPERATIONS.values() for m in (op.body, op.query, op.answer) if m is not None}, key=str)
    refs, schemas = msgspec.json.schema_components(used, ref_template="#/components/schemas/{name}")
    ref_of = dict(zip(used, refs, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            operation = OPERATIONS.get((method, path), Operation())
            paths.setdefault(path, {})[method.lower()] = _operation(path, method, entry, operation, ref_of, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "patient-share",
            "version": "1",
            "description": "Send imaging studies to patients and chat with them. Errors are always "
            '{"Code", "Message"}; a 422 names the path of the value that was wrong.',
        },
        "servers": [{"url": settings().public_base_url}],
        "paths": paths,
        "components": {
            "schemas": {**schemas, "Error": ERROR_SCHEMA, "GatewayError": GATEWAY_ERROR_SCHEMA},
            "securitySchemes": {
                "clinicKey": {"type": "http", "scheme": "bearer", "description": "The clinic's API key (psk_…)"},
                "shareCookie": {"type": "apiKey", "in": "cookie", "name": UNLOCK_COOKIE},
                "patientSession": {"type": "apiKey", "in": "cookie", "name": PATIENT_COOKIE},
                "clinicianSession": {"type": "apiKey", "in": "cookie", "name": CLINICIAN_COOKIE},
            },
        },
    }


def _operation(
    path: str,
    method: str,
    entry: Any,
    operation: Operation,
    ref_of: dict[type, dict[str, Any]],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    doc = (entry.view_function.__doc__ or "").strip()
    spec: dict[str, Any] = {
        "operationId": f"{entry.view_function.__module__.rsplit('.', 1)[-1]}.{entry.view_name}",
        "summary": doc.splitlines()[0] if doc else entry.view_name,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in re.findall(r"\{(\w+)\}", path)
        ],
    }
    secured = entry.authorizer is not None
    if secured:
        spec["security"] = [{"clinicKey": []}]
    else:
        cookie = next((name for pattern, name in _COOKIES if pattern.match(path)), None)
        spec["security"] = [{}, {cookie: []}] if cookie else [{}]
    if operation.query is not None:
        schema = schemas[operation.query.__name__]
        spec["parameters"] += [
            {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            for name, prop in schema["properties"].items()
        ]
    if operation.body is not None:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref_of[operation.body]}}}
    elif operation.form is not None:
        form = {"type": "object", "properties": {f: {"type": "string"} for f in operation.form}}
        spec["requestBody"] = {"content": {"application/x-www-form-urlencoded": {"schema": form}}}
    elif "multipart/related" in (entry.content_types or []):
        spec["requestBody"] = {
            "required": True,
            "content": {"multipart/related": {"schema": {"type": "string", "contentMediaType": "application/dicom"}}},
        }
    if operation.answer is not None:
        answer = {"type": "array", "items": ref_of[operation.answer]} if operation.many else ref_of[operation.answer]
    elif operation.answers == "application/dicom+json":
        answer = DICOM_JSON_SCHEMA
    else:
        answer = {}
    spec["responses"] = {str(operation.success): _success(operation, answer), **_errors(secured, operation)}
    for status in operation.also:  # the same answer, under another status (beside the error shape, if any)
        described = spec["responses"].setdefault(str(status), {"description": "OK", "content": {}})
        described["content"] = {**described.get("content", {}), operation.answers: {"schema": answer}}
    if operation.see_other:
        spec["responses"]["303"] = {
            "description": "The answer is too large to pass here: fetch it from Location (a pre-signed URL)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    return spec


def _success(operation: Operation, schema: dict[str, Any]) -> dict[str, Any]:
    if operation.answers == "redirect":
        return {"description": "To the resource", "headers": {"Location": {"schema": {"type": "string"}}}}
    return {"description": "OK", "content": {operation.answers: {"schema": schema}}}


def _errors(secured: bool, operation: Operation) -> dict[str, Any]:
    statuses = {*STATUS.values(), 500} | ({401, 403} if secured else set())
    if operation.body is not None or operation.form is not None:
        statuses |= {415}
    error: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    if operation.answers == "text/html" or operation.form is not None:
        error["text/html"] = {"schema": {"type": "string"}}  # the page's own words, in sv or en
    retry = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}}
    either = {"anyOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/GatewayError"}]}
    gateway: dict[str, Any] = {**error, "application/json": {"schema": either}}
    return {
        str(s): {
            "description": _REASONS[s],
            "content": gateway if secured and s in {401, 403} else error,
            **({"headers": retry} if s in _RETRY_AFTER else {}),
        }
        for s in sorted(statuses)
    }
