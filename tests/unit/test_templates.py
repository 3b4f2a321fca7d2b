"""No page hard-codes a path from the root: under a PUBLIC_BASE_URL with a path, every link, form and asset
of every page stays under it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api.console_visits import Event
from chalicelib.domain.accounts import Clinic
from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.deliveries import Delivery, DeliveryStatus
from chalicelib.domain.staff import Role, StaffMember
from chalicelib.domain.visits import Attachment, AttachmentStatus, Message, Visit, VisitStatus
from chalicelib.domain.visits import Role as VisitRole
from chalicelib.services.visits import OpenVisit
from chalicelib.templating import render

TEMPLATES = Path(__file__).resolve().parents[2] / "chalicelib" / "templates"
BASE = "/under/a/path"
URL_ATTRIBUTE = re.compile(r'\b(?:href|src|action)="([^"]*)"')
MEMBER = StaffMember("staff-1", "anna@klinik.example", "cl_00000000000000aa", Role.ADMIN, True, "CONFIRMED")
OTHER = StaffMember("staff-2", "bo@klinik.example", "cl_00000000000000aa", Role.CLINICIAN, False, "CONFIRMED")

_NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_VISIT = Visit(
    "vi_0123456789abcdef0123", "cl_00000000000000aa", "staff-1", _NOW, _NOW + timedelta(days=60), "h",
    (Delivery(1, Contact(ContactKind.EMAIL, "astrid@example.org"), DeliveryStatus.SENT, attempts=1, updated_at=_NOW),),
)  # fmt: skip
_FILE = Message(
    _VISIT.visit_id, _VISIT.clinic_id, 2, VisitRole.PATIENT, _NOW, _VISIT.expires_at,
    attachment=Attachment("at_0123456789abcdef0123", "photo.jpg", "image/jpeg", 10, AttachmentStatus.READY,
                          saved_at=_NOW, saved_by="staff-1"),
)  # fmt: skip
_CLOSED = replace(_VISIT, status=VisitStatus.CLOSED, closed_at=_NOW, closed_by="staff-1")
_EVENTS = [Event(_NOW, "staff-1", "started"), Event(_NOW, None, "wrote"), Event(_NOW, None, "sent_file", _FILE),
           Event(_NOW, "staff-1", "saved_file", _FILE), Event(_NOW, "staff-1", "closed")]  # fmt: skip
_SIGNED_IN = {"member": MEMBER, "csrf": "c"}

#: Enough context for each page to render its links (StrictUndefined refuses anything missing).
CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "share_gone.html": [{"expired": True}],
    "share_page.html": [{"state": "preparing", "clinic_name": "Kliniken", "token": "tok"}],
    "chat.html": [{"role": "patient", "api": f"{BASE}/v/tok", "clinic_name": None, "strings": {}}],
    "chat_error.html": [{"reason": "ended"}],
    "console_sign_in.html": [{"error": None, "csrf": "c"}],
    "console_challenge.html": [{"challenge": "NEW_PASSWORD_REQUIRED", "token": "t", "error": None}],
    "console_home.html": [{"member": MEMBER, "csrf": "c", "section": "home"}],
    "console_settings.html": [
        {
            "member": MEMBER,
            "csrf": "c",
            "section": "settings",
            "members": [MEMBER, OTHER],
            "error": None,
            "saved": True,
            "clinic": Clinic("cl_00000000000000aa", "Kliniken", datetime(2026, 1, 1, tzinfo=UTC), link_code_hash="x"),
            "max_lifetime_days": 365,
            "max_daily_messages": 20000,
            "code_lengths": (4, 32),
        },
    ],
    "console_visits.html": [
        {
            **_SIGNED_IN,
            "section": "visits",
            "open_visits": [OpenVisit(_VISIT, 3), OpenVisit(_VISIT, 0)],
            "shown": 2,
            "languages": ("sv", "en"),
            "error": None,
            "contacts": "",
            "language": "sv",
        },
        {
            **_SIGNED_IN,
            "section": "visits",
            "open_visits": [],
            "shown": 100,
            "languages": ("sv", "en"),
            "error": "contact 2",
            "contacts": "a@b.se, x",
            "language": "en",
        },
    ],
    "console_visits_detail.html": [
        {
            **_SIGNED_IN,
            "section": "visits",
            "visit": visit,
            "events": _EVENTS,
            "kept": [_FILE],
            "who": {"staff-1": "a@b"},
            "advice": {"sv": "Spara", "en": "Save"},
        }
        for visit in (_VISIT, _CLOSED)
    ],
    "console_upload.html": [{**_SIGNED_IN, "section": "upload", "strings": {"a": "b"}, "batch": 50, "parallel": 4}],
    "console_refused.html": [
        {"member": OTHER, "csrf": "c", "section": "settings", "kind": kind, "refused_status": status, "reason": "No"}
        for kind, status in (("csrf", 403), ("admin_only", 403), (None, 404), (None, 409))
    ],
}
#: The layouts pages extend: the one base, and the console's (the bar with its sections) on top of it.
LAYOUTS = {"base.html", "console_base.html"}
#: The console's pages before sign-in have no bar.
SIGNED_OUT = {"console_sign_in.html", "console_challenge.html"}


def test_every_page_template_is_checked() -> None:
    pages = {p.name for p in TEMPLATES.glob("*.html")} - LAYOUTS
    emails = {name for name in pages if name.endswith("_email.html")}
    assert pages - emails == CONTEXTS.keys()


@pytest.mark.parametrize(("template", "context"), [(t, c) for t, cs in CONTEXTS.items() for c in cs])
def test_links_forms_and_assets_stay_under_the_base_path(template: str, context: dict[str, Any]) -> None:
    html = render(template, "en", base=BASE, assets=f"{BASE}/assets", **context)
    urls = URL_ATTRIBUTE.findall(html)
    assert urls, "the page has no links to check"
    rooted = [u for u in urls if u.startswith("/") and not u.startswith(BASE + "/")]
    assert rooted == []


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_page_is_the_one_base_layout(template: str) -> None:
    signed_in = template.startswith("console_") and template not in SIGNED_OUT
    layout = "console_base.html" if signed_in else "base.html"
    assert (TEMPLATES / template).read_text().startswith(f'{{% extends "{layout}" %}}')
    html = render(template, "sv", **CONTEXTS[template][0])
    assert html.count("<head>") == 1
    assert '<meta name="referrer" content="no-referrer">' in html
    assert '<link rel="icon" href="/assets/favicon.svg"' in html
