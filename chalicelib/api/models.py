"""The API's request bodies and query strings, declared once.

Each model validates what a route reads (``requests.body`` and ``requests.query``) and is the schema
the OpenAPI document (``api/openapi.py``) publishes. The models check shape and bounds; the rules of
the domain (which languages, which countries, how long a link may live) stay in the domain, which
words them.

msgspec rather than pydantic: it adds a few milliseconds to the API's cold start where pydantic adds
tens, and it writes JSON Schema 2020-12, the dialect of OpenAPI 3.1 (README, "Performance").
"""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from chalicelib.domain.accounts import MAX_CLINIC_NAME
from chalicelib.domain.shares import LinkState
from chalicelib.domain.studies import MAX_LIMIT, MAX_PATTERN
from chalicelib.services import clinic_shares
from chalicelib.services.chat import DEFAULT_PAGE, MAX_PAGE

#: A whole number a request may carry: bounded, so that no number reaches a rule or a table unchecked.
Whole = Annotated[int, Meta(ge=0, le=1_000_000)]
#: Free text a request may carry (a name, contacts, a message), bounded.
Text = Annotated[str, Meta(max_length=10_000)]
#: An identifier or a short code.
Short = Annotated[str, Meta(max_length=256)]
#: A QIDO-RS matching value: at most ``MAX_PATTERN`` characters (a wildcard pattern is matched in linear time).
Pattern = Annotated[str, Meta(max_length=MAX_PATTERN)]


class Body(Struct, kw_only=True, forbid_unknown_fields=True):
    """A JSON request body: an object whose fields are all named here (a misspelt field is refused)."""


class Query(Struct, kw_only=True):
    """A query string (its parameters arrive as text and are converted)."""


# ------------------------------------------------------------------------------------------- clinic


class ClinicChange(Body):
    """``PATCH /clinic``: the name patients see as the sender."""

    name: Annotated[str, Meta(max_length=MAX_CLINIC_NAME)]


class SettingsChange(Body):
    """``PUT /settings``: the settings named change; ``"link_code": null`` removes the code."""

    link_code: Short | UnsetType | None = UNSET
    link_lifetime_days: Whole | None = None
    language: Short | None = None
    sms_country: Short | None = None
    daily_message_limit: Whole | None = None


# ------------------------------------------------------------------------------------------- studies


class StudySearch(Query):
    """``GET /studies``: ``q`` (name parts, patient id or accession number), newest first."""

    q: Short | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT)] = 50
    offset: Whole = 0


class ConsoleStudySearch(Query):
    """``GET /console/studies``: name parts, patient ID, accession number, a date range, the page's offset."""

    name: Short | None = None
    patient_id: Pattern | None = None
    accession: Pattern | None = None
    date_from: Short | None = None
    date_to: Short | None = None
    offset: Whole = 0


class ContactsCheck(Body):
    """``POST /console/contacts/check``: the contacts as typed so far."""

    contacts: Text


class UploadRequest(Body):
    """``POST /studies/uploads``: how many files will be uploaded."""

    files: Whole = 1


class QidoSearch(Query):
    """``GET /dicomweb/studies`` (QIDO-RS): attributes by keyword (or tag, mapped to the keyword first)."""

    PatientName: Pattern | None = None
    PatientID: Pattern | None = None
    StudyDate: Short | None = None
    AccessionNumber: Pattern | None = None
    ModalitiesInStudy: Short | None = None
    StudyInstanceUID: Short | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_LIMIT)] = 100
    offset: Whole = 0
    fuzzymatching: Short | None = None
    includefield: Short | None = None


# ------------------------------------------------------------------------------------------- shares


class ShareRequest(Body):
    """``POST /studies/{uid}/shares``: to whom, which instances (all when absent), language, lifetime."""

    contacts: Text | None = None
    instances: Annotated[list[Short], Meta(max_length=10_000)] | None = None
    language: Short | None = None
    lifetime_days: Whole | None = None


class ShareListQuery(Query):
    """``GET /shares`` (and the console's Shares list): the clinic's shares newest first, only those ``live``,
    ``expired`` or ``deleted`` when ``status`` says so; ``cursor`` is the ``next_cursor`` of the page before."""

    status: LinkState | None = None
    limit: Annotated[int, Meta(ge=1, le=clinic_shares.MAX_PAGE)] = clinic_shares.DEFAULT_PAGE
    cursor: Short | None = None


# ------------------------------------------------------------------------------------------- visits


class VisitRequest(Body):
    """``POST /visits``: the patient's contacts (e-mail addresses and phone numbers, comma separated)."""

    contacts: Text
    language: Short = "sv"


class TextMessage(Body):
    """A chat message, kept as written."""

    text: Text


class AttachmentAnnouncement(Body):
    """A file about to be uploaded to the chat."""

    filename: Short
    content_type: Short
    size: Annotated[int, Meta(ge=0, le=2**40)]


class MessagePageQuery(Query):
    """``?after=<seq>&limit=<n>`` of a chat's messages."""

    after: Annotated[int, Meta(ge=0, le=2**53)] = 0
    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE
