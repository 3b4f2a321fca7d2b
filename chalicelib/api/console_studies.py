"""The console's Studies section: find a study, choose its images, review what sending will do, send.

Search goes through the same service and repository as ``GET /studies`` (``ingest.search_studies``): the
name box is the console's free text (every word the start of a name part, case-insensitive), the other
boxes are QIDO's exact-or-wildcard patient ID and accession number, and a date range. Pages are the
service's offset, one result more than a page asked for telling whether there is a next one.

Sending is two steps: the review (``shares.review``: contacts, language, lifetime and the chosen images
checked as sending checks them, and each image's verdict: anonymized, or behind the patient's password
and why), then the send, under the idempotency key the review page made (``api/idempotency.once``): a
double click or a resubmitted form sends once and shows the same result.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalice.app import Blueprint, Response

from chalicelib.api import models, web
from chalicelib.api.answers import ContactsVerdict
from chalicelib.api.contact_words import contact_problems
from chalicelib.api.idempotency import once
from chalicelib.api.requests import body, query
from chalicelib.api.responses import ok
from chalicelib.api.staffed import Staffed, staffed
from chalicelib.api.web import FORM, Storage, form_values, secure_pages
from chalicelib.domain.accounts import Clinic
from chalicelib.domain.contacts import masked
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.shares import LANGUAGES, MAX_LIFETIME_DAYS, language, lifetime
from chalicelib.domain.studies import DateRange, Instance, StudyQuery, by_series, parse_date_range
from chalicelib.domain.verdicts import NOT_ASSESSED, Verdict
from chalicelib.services import ingest, shares
from chalicelib.wiring import deps

bp = Blueprint(__name__)

#: Studies on one page of results.
PAGE_SIZE = 20

#: The console's study pages show thumbnails, pre-signed in the study index's bucket.
thumbnail_pages = secure_pages(Storage.INGEST)

#: Each reason the anonymizer gives (``ReasonCode``), and ``NOT_ASSESSED``, in words for the clinic.
REASONS: dict[str, tuple[str, str]] = {
    "supported_sop_class": ("En bildtyp som kan avidentifieras.", "An image type that can be de-identified."),
    "no_burned_in_annotation": ("Bilden har ingen inbränd text.", "The image has no burned-in text."),
    "us_regions_cleaned": (
        "Allt utanför ultraljudsområdena svärtas, så att inbränd text försvinner.",
        "Everything outside the ultrasound regions is blanked, so burned-in text goes.",
    ),
    "layout_table_cleaned": (
        "Där apparaten skriver sin text svärtas bilden (känd skärmlayout).",
        "Where the device writes its text is blanked (a known screen layout).",
    ),
    "missing_sop_class": ("Filen säger inte vad den innehåller.", "The file does not say what it holds."),
    "missing_sop_instance_uid": ("Filen saknar sin identitet (SOP Instance UID).", "The file has no SOP Instance UID."),
    "missing_study_instance_uid": ("Filen saknar undersökningens UID.", "The file has no Study Instance UID."),
    "unsupported_sop_class": ("En bildtyp vi inte kan avidentifiera.", "An image type we cannot de-identify."),
    "structured_report": (
        "En strukturerad rapport: innehållet kan ha fritext och namn.",
        "A structured report: its content may hold free text and names.",
    ),
    "encapsulated_document": (
        "Ett inbäddat dokument (t.ex. PDF): innehållet kan inte granskas.",
        "An encapsulated document (such as a PDF): its content cannot be inspected.",
    ),
    "secondary_capture": (
        "En skärmbild eller ett inskannat dokument: text kan finnas var som helst i bilden.",
        "A screenshot or scanned document: text may be anywhere in the picture.",
    ),
    "burned_in_annotation": (
        "Text är inbränd i bilden och kan inte tas bort.",
        "Text is burned into the image and cannot be removed.",
    ),
    "burned_in_annotation_unknown": (
        "Bildtypen har oftast inbränd text, och filen säger inte annat.",
        "This kind of image usually has burned-in text, and the file does not say otherwise.",
    ),
    "clean_pixel_data_not_selected": (
        "Bilden kan ha inbränd text som inte rensas.",
        "The image may hold burned-in text that is not cleaned.",
    ),
    "no_usable_us_regions": (
        "Ultraljudsbild utan användbara ultraljudsområden: var texten står går inte att veta.",
        "An ultrasound image without usable regions: where its text is cannot be known.",
    ),
    "pixel_data_not_decodable": (
        "Bilden kan ha inbränd text, och dess kodning kan inte skrivas om.",
        "The image may hold burned-in text, and its encoding cannot be rewritten.",
    ),
    NOT_ASSESSED: (
        "Inte bedömd (indexerad före bedömningarna): avgörs när länken förbereds.",
        "Not assessed (indexed before verdicts were kept): decided when the link is prepared.",
    ),
}


# ---------------------------------------------------------------------------------------------- search


@bp.route("/console/studies", methods=["GET"])
@thumbnail_pages
@staffed("studies")
def studies_page(ctx: Staffed) -> Response:
    """Search the clinic's studies (name, patient ID, accession number, date range), newest first, paged."""
    asked = query(models.ConsoleStudySearch)
    values = {
        "name": asked.name or "",
        "patient_id": asked.patient_id or "",
        "accession": asked.accession or "",
        "date_from": asked.date_from or "",
        "date_to": asked.date_to or "",
    }
    searched = any(values.values())
    try:
        dates = _date_range(values["date_from"], values["date_to"])
    except _BadDates as err:
        return ctx.render("console_studies.html", 422, values=values, error=err.kind, **_NO_RESULTS)
    search = StudyQuery(
        text=values["name"].strip() or None,
        patient_id=values["patient_id"].strip() or None,
        accession_number=values["accession"].strip() or None,
        study_date=dates,
        limit=PAGE_SIZE + 1,
        offset=asked.offset,
    )
    found = ingest.search_studies(ctx.clinic_id, search, deps())
    shown = found[:PAGE_SIZE]
    return ctx.render(
        "console_studies.html",
        values=values,
        error=None,
        searched=searched,
        studies=shown,
        thumbnails=ingest.cover_thumbnails(ctx.clinic_id, shown, deps()),
        first=asked.offset + 1,
        previous=_page_link(values, max(asked.offset - PAGE_SIZE, 0)) if asked.offset > 0 else None,
        next=_page_link(values, asked.offset + PAGE_SIZE) if len(found) > PAGE_SIZE else None,
    )


_NO_RESULTS: dict[str, Any] = {
    "searched": True,
    "studies": [],
    "thumbnails": {},
    "first": 1,
    "previous": None,
    "next": None,
}


class _BadDates(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _date_range(start: str, end: str) -> DateRange | None:
    """The range of two date boxes (``YYYY-MM-DD``, as a browser's date input sends them), None when empty."""
    start, end = start.strip().replace("-", ""), end.strip().replace("-", "")
    if not start and not end:
        return None
    try:
        dates = parse_date_range(f"{start}-{end}")
    except InvalidInput as err:
        raise _BadDates("date") from err
    if dates.start is not None and dates.end is not None and dates.start > dates.end:
        raise _BadDates("date_order")
    return dates


def _page_link(values: dict[str, str], offset: int) -> str:
    kept = {name: value for name, value in values.items() if value}
    return "/console/studies?" + urlencode({**kept, "offset": offset})


# ----------------------------------------------------------------------------------------------- study


@dataclass(frozen=True)
class SendForm:
    """The Send to patient form as posted (or as first shown, with the clinic's defaults)."""

    contacts: str = ""
    language: str = "sv"
    lifetime_days: str = ""
    everything: bool = True
    series: tuple[str, ...] = ()
    instances: tuple[str, ...] = ()


@bp.route("/console/studies/{study_uid}", methods=["GET"])
@thumbnail_pages
@staffed("studies")
def study_page(ctx: Staffed, study_uid: str) -> Response:
    """A study: its series and images to choose from, the Send to patient form, and its share history."""
    clinic = _clinic(ctx)
    return _study(ctx, study_uid, 200, SendForm(language=clinic.language, lifetime_days=str(clinic.link_lifetime_days)))


def _study(
    ctx: Staffed, study_uid: str, status: int, asked: SendForm, problems: list[tuple[str, str]] | None = None
) -> Response:
    detail = ingest.study_detail(ctx.clinic_id, study_uid, deps())
    now = deps().clock.now()
    return ctx.render(
        "console_studies_study.html",
        status,
        study=detail.study,
        series=by_series(detail.instances),
        thumbnails=detail.thumbnail_urls,
        asked=asked,
        problems=problems or [],
        history=[_history_view(entry) for entry in shares.history(ctx.clinic_id, study_uid, deps())],
        masked=masked,
        now=now,
        labels=_labels(detail.instances),
        languages=LANGUAGES,
        max_lifetime=MAX_LIFETIME_DAYS,
        reasons=REASONS,
    )


def _history_view(entry: shares.HistoryEntry) -> dict[str, Any]:
    """A share of the study, worded by the Shares pages' macros, with what its images' verdicts say."""
    return {
        "share": entry.share,
        "opens": entry.opens,
        "downloads": entry.downloads,
        "needs_password": shares.password_needed(entry.share, entry.verdicts),
        **_verdict_summary(entry.verdicts or ()),
    }


def _verdict_summary(verdicts: tuple[shares.Announced, ...]) -> dict[str, Any]:
    """How many go out anonymized, and the others with their verdicts and reasons."""
    return {
        "anonymized": sum(1 for a in verdicts if a.verdict.verdict is Verdict.ANONYMIZED),
        "others": [
            {"sop_instance_uid": a.sop_instance_uid, "verdict": a.verdict.verdict.value, "reason": a.verdict.reason}
            for a in verdicts
            if a.verdict.verdict is not Verdict.ANONYMIZED
        ],
    }


# -------------------------------------------------------------------------------------- review and send


@bp.route("/console/studies/{study_uid}/review", methods=["POST"], content_types=[FORM])
@thumbnail_pages
@staffed("studies")
def review(ctx: Staffed, study_uid: str) -> Response:
    """Check the Send to patient form and show what sending will do, before anything is sent."""
    asked = _send_form(form_values())
    detail = ingest.study_detail(ctx.clinic_id, study_uid, deps())
    clinic = _clinic(ctx)
    problems = contact_problems(asked.contacts, clinic.country) + _field_problems(asked, clinic)
    request = _send_request(asked, detail.instances)
    if request is None:
        problems.append(("Välj minst en bild ur undersökningen.", "Choose at least one image of the study."))
    if problems or request is None:
        return _study(ctx, study_uid, 422, asked, problems)
    summary = shares.review(ctx.clinic_id, study_uid, request, deps())
    return ctx.render(
        "console_studies_review.html",
        study=detail.study,
        asked=asked,
        summary=summary,
        contacts=[{"kind": c.kind.value, "address": c.address} for c in summary.contacts],
        labels=_labels(detail.instances),
        thumbnails=detail.thumbnail_urls,
        sms_only=shares.SMS_ONLY_WARNING in summary.warnings,
        link_code=clinic.link_code_hash is not None,
        key=secrets.token_urlsafe(24),
        reasons=REASONS,
        **_verdict_summary(summary.verdicts),
    )


@bp.route("/console/studies/{study_uid}/send", methods=["POST"], content_types=[FORM])
@thumbnail_pages
@staffed("studies")
def send(ctx: Staffed, study_uid: str) -> Response:
    """Send the reviewed share, once per review (its idempotency key); shows what each contact will get."""
    fields = form_values()
    asked = _send_form(fields)
    key = (fields.get("key") or [""])[0]
    if not key:
        raise InvalidInput("The form has no idempotency key; review the send again")
    if not asked.contacts.strip():
        raise InvalidInput("The form has no contacts; review the send again")
    detail = ingest.study_detail(ctx.clinic_id, study_uid, deps())
    request = _send_request(asked, detail.instances)
    if request is None:
        raise InvalidInput("The form chooses no image; review the send again")

    def send_once() -> dict[str, Any]:
        sent = shares.send_study(ctx.clinic_id, study_uid, request, deps(), actor=ctx.actor)
        ctx.record("share_sent", share_id=sent.share.share_id)
        share = sent.share
        return {
            "share_id": share.share_id,
            "expires_at": share.expires_at.date().isoformat(),
            "language": share.language,
            # In full, as the review showed them: the confirmation is where a typo is still caught.
            "contacts": [{"kind": d.contact.kind.value, "address": d.contact.address} for d in share.deliveries],
            "sms_only": shares.SMS_ONLY_WARNING in sent.warnings,
            "needs_password": shares.password_needed(share, sent.verdicts),
            "link_code": share.link_code_hash is not None,
            **_verdict_summary(sent.verdicts),
        }

    fingerprint = {"study_uid": study_uid, **{k: v for k, v in fields.items() if k not in ("csrf", "key")}}
    result = once(ctx.clinic_id, fingerprint, send_once, key=key)
    return ctx.render(
        "console_studies_sent.html", study=detail.study, sent=result, labels=_labels(detail.instances), reasons=REASONS
    )


@bp.route("/console/contacts/check", methods=["POST"], content_types=["application/json"])
@secure_pages(forms=False)
@staffed("studies", script=True)
def check_contacts(ctx: Staffed) -> Response:
    """Check contacts as they are typed (the clinic's country for numbers without +): every bad one by position."""
    asked = body(models.ContactsCheck)
    problems = contact_problems(asked.contacts, _clinic(ctx).country)
    lang = 0 if web.language() == "sv" else 1
    return ok(ContactsVerdict(valid=not problems, problems=[p[lang] for p in problems]))


def _clinic(ctx: Staffed) -> Clinic:
    return deps().clinics.get(ctx.clinic_id)


def _send_form(fields: dict[str, list[str]]) -> SendForm:
    def first(name: str) -> str:
        return (fields.get(name) or [""])[0]

    return SendForm(
        contacts=first("contacts"),
        language=first("language"),
        lifetime_days=first("lifetime_days").strip(),
        everything=first("all") == "1",
        series=tuple(fields.get("series", [])),
        instances=tuple(fields.get("instance", [])),
    )


def _send_request(asked: SendForm, instances: list[Instance]) -> shares.SendRequest | None:
    """The form as a send (a chosen series stands for all its images); None when no image is chosen."""
    chosen: tuple[str, ...] | None = None
    if not asked.everything:
        in_series = set(asked.series)
        whole = [i.sop_instance_uid for i in instances if i.header.series_instance_uid in in_series]
        chosen = tuple(dict.fromkeys([*whole, *asked.instances]))
        if not chosen:
            return None
    days = int(asked.lifetime_days) if asked.lifetime_days.isdigit() else None
    return shares.SendRequest(asked.contacts, chosen, asked.language or None, days)


def _field_problems(asked: SendForm, clinic: Clinic) -> list[tuple[str, str]]:
    """The language and lifetime as the domain takes them, in words for the form."""
    problems = []
    try:
        language(asked.language or None, clinic.language)
    except InvalidInput:
        problems.append(("Välj svenska eller engelska.", "Choose Swedish or English."))
    try:
        if not asked.lifetime_days.isdigit():
            raise InvalidInput("not a number")
        lifetime(int(asked.lifetime_days), clinic.link_lifetime_days)
    except InvalidInput:
        problems.append(
            (
                f"Länkens livslängd ska vara 1–{MAX_LIFETIME_DAYS} dagar.",
                f"The link's lifetime must be 1 to {MAX_LIFETIME_DAYS} days.",
            )
        )
    return problems


def _labels(instances: list[Instance]) -> dict[str, str]:
    """How the pages name an instance: its series and image numbers (never a UID on screen)."""
    return {
        i.sop_instance_uid: f"{i.header.series_number if i.header.series_number is not None else '–'}"
        f" / {i.header.instance_number if i.header.instance_number is not None else '–'}"
        for i in instances
    }
