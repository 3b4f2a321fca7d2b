"""No page hard-codes a path from the root: under a PUBLIC_BASE_URL with a path, every link, form and asset
of every page stays under it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api.shares import DELIVERY_ADVICE
from chalicelib.domain.contacts import Contact, ContactKind, masked
from chalicelib.domain.deliveries import Delivery, DeliveryStatus
from chalicelib.domain.shares import AccessKind, ActorKind, Attempts, Share, ShareStatus
from chalicelib.domain.staff import Role, StaffMember
from chalicelib.domain.studies import display_date, display_name
from chalicelib.services.clinic_shares import AuditEntry, ShareDetail
from chalicelib.services.shares import HistoryEntry
from chalicelib.templating import render

TEMPLATES = Path(__file__).resolve().parents[2] / "chalicelib" / "templates"
BASE = "/under/a/path"
URL_ATTRIBUTE = re.compile(r'\b(?:href|src|action)="([^"]*)"')
MEMBER = StaffMember("staff-1", "anna@klinik.example", "cl_00000000000000aa", Role.ADMIN, True, "CONFIRMED")
OTHER = StaffMember("staff-2", "bo@klinik.example", "cl_00000000000000aa", Role.CLINICIAN, False, "CONFIRMED")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SHARE = Share(
    "sh_00000000000000000001",
    "cl_00000000000000aa",
    "1.2.3",
    None,
    (Delivery(1, Contact(ContactKind.EMAIL, "a.person@example.org"), DeliveryStatus.BOUNCED),),
    "sv",
    "hash",
    "nonce",
    NOW,
    NOW + timedelta(days=90),
    status=ShareStatus.READY,
    attempts=Attempts(5, NOW + timedelta(minutes=10)),
)
SHARE_WORDS = {
    "member": MEMBER,
    "csrf": "c",
    "section": "shares",
    "masked": masked,
    "display_name": display_name,
    "display_date": display_date,
    "advice": DELIVERY_ADVICE,
    "now": NOW,
}
AUDIT = tuple(AuditEntry(NOW, kind, ActorKind.STAFF, MEMBER.email, None) for kind in AccessKind)

#: Enough context for each page to render its links (StrictUndefined refuses anything missing).
CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "share_gone.html": [{"expired": True}],
    "share_page.html": [{"state": "preparing", "clinic_name": "Kliniken", "token": "tok"}],
    "chat.html": [{"role": "patient", "api": f"{BASE}/v/tok", "clinic_name": None, "strings": {}}],
    "chat_error.html": [{"reason": "ended"}],
    "console_sign_in.html": [{"error": None}],
    "console_challenge.html": [{"challenge": "NEW_PASSWORD_REQUIRED", "token": "t", "error": None}],
    "console_home.html": [{"member": MEMBER, "csrf": "c", "section": "home"}],
    "console_settings.html": [
        {"member": MEMBER, "csrf": "c", "section": "settings", "members": [MEMBER, OTHER], "error": None},
    ],
    "console_shares.html": [
        {**SHARE_WORDS, "entries": [HistoryEntry(SHARE, 1, NOW, 0)], "studies": {}, "state": s, "next_cursor": c}
        for s, c in ((None, "abc"), ("live", None))
    ],
    "console_share.html": [
        {**SHARE_WORDS, "detail": ShareDetail(HistoryEntry(SHARE, 1, NOW, 0), None, AUDIT), "done": d, "problem": p}
        for d, p in ((None, None), ("resent", "expired"), ("deleted", "quota"))
    ],
    "console_share_delete.html": [{**SHARE_WORDS, "share": SHARE, "study": None}],
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
    # Partials (``_*.html``: macros the pages import) are checked through the pages that use them.
    pages = {p.name for p in TEMPLATES.glob("*.html") if not p.name.startswith("_")} - LAYOUTS
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
