"""No page hard-codes a path from the root: under a PUBLIC_BASE_URL with a path, every link, form and asset
of every page stays under it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api.console_studies import REASONS, SendForm
from chalicelib.api.console_visits import Event
from chalicelib.api.shares import DELIVERY_ADVICE
from chalicelib.domain.accounts import Clinic
from chalicelib.domain.contacts import Contact, ContactKind, masked
from chalicelib.domain.deliveries import Delivery, DeliveryStatus
from chalicelib.domain.dicom_header import Header
from chalicelib.domain.shares import AccessKind, ActorKind, Attempts, Share, SharedFile, ShareStatus
from chalicelib.domain.staff import Role, StaffMember
from chalicelib.domain.studies import Instance, Series, Study
from chalicelib.domain.verdicts import InstanceVerdict, Verdict
from chalicelib.domain.visits import Attachment, AttachmentStatus, Message, Visit, VisitStatus
from chalicelib.domain.visits import Role as VisitRole
from chalicelib.services.clinic_shares import AuditEntry, ShareDetail
from chalicelib.services.landing import About, FileLink
from chalicelib.services.shares import Announced, HistoryEntry, Review
from chalicelib.services.visits import OpenVisit
from chalicelib.templating import render
from tests.unit.test_their_language import FILES, LOCKED, OPEN, REPORT

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
    "advice": DELIVERY_ADVICE,
    "now": NOW,
}
AUDIT = tuple(AuditEntry(NOW, kind, ActorKind.STAFF, MEMBER.email, None) for kind in AccessKind)

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
SIGNED_IN = {"member": MEMBER, "csrf": "c", "section": "studies"}
SEARCH = {"name": "doe", "patient_id": "", "accession": "", "date_from": "2026-01-01", "date_to": ""}
STUDY = Study(
    "cl_00000000000000aa", "1.2.3", "DOE^JANE", "P1", "19700101", "20261120", "101500", "ACC-1", "Hjärta", ("US",),
    1, 2, (), (), datetime(2026, 11, 20, tzinfo=UTC),
)  # fmt: skip
HEADER = Header(
    "1.2.3", "1.2.3.1", "1.2.3.1.1", "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.1.2.1", "DOE^JANE", "P1",
    "19700101", "20261120", "101500", "ACC-1", "Hjärta", "US", 1, "B-mode", 1, 1, 48, 64, True, (), (),
)  # fmt: skip
IMAGE = Instance("cl_00000000000000aa", HEADER, "uploads/x", 10, STUDY.updated_at)
UNKNOWN = {"sop_instance_uid": "1.2.3.1.1", "verdict": "unknown", "reason": "not_assessed"}
RESULTS = {"searched": True, "studies": [STUDY], "thumbnails": {"1.2.3": "https://b.example/t.jpg"}, "first": 1,
           "previous": "/console/studies?offset=0", "next": "/console/studies?offset=40"}  # fmt: skip
HISTORY = {
    "share": replace(
        SHARE, status=ShareStatus.QUEUED, deliveries=(Delivery(1, Contact(ContactKind.SMS, "+46701234567")),)
    ),
    "opens": 0,
    "downloads": 0,
    "needs_password": None,
    "anonymized": 0,
    "others": [UNKNOWN],
}
STUDY_PAGE = {
    "masked": masked,
    "now": NOW,
    "study": STUDY,
    "series": [Series("1.2.3.1", "US", 1, "B-mode", [IMAGE])],
    "thumbnails": {"1.2.3.1.1": "https://b.example/t.jpg"},
    "asked": SendForm(),
    "problems": [],
    "history": [HISTORY],
    "languages": ("sv", "en"),
    "max_lifetime": 365,
    "reasons": REASONS,
    "labels": {"1.2.3.1.1": "1 / 1"},
}
REVIEW_PAGE = {
    "study": STUDY,
    "asked": SendForm(contacts="a@b.se", everything=False),
    "summary": Review(
        (), "sv", 90, (Announced("1.2.3.1.1", InstanceVerdict(Verdict.PASSWORD, "no_usable_us_regions")),), ()
    ),
    "contacts": [{"kind": "email", "address": "a@b.se"}],
    "labels": {"1.2.3.1.1": "1 / 1"},
    "thumbnails": {"1.2.3.1.1": "https://b.example/t.jpg"},
    "sms_only": True,
    "link_code": True,
    "key": "k",
    "reasons": REASONS,
    "anonymized": 0,
    "others": [{**UNKNOWN, "verdict": "password", "reason": "no_usable_us_regions"}],
}
SENT = {
    "share_id": "sh_1",
    "expires_at": "2027-02-18",
    "language": "sv",
    "contacts": [{"kind": "sms", "address": "+46701234567"}],
    "sms_only": True,
    "needs_password": True,
    "link_code": False,
    "anonymized": 1,
    "others": [UNKNOWN],
}
SENT_PAGE = {"study": STUDY, "sent": SENT, "labels": {}, "reasons": REASONS}

#: An open share: a cine with its poster frame, a picture, an original (the tile grid and the viewer).
OPEN_FILES = [
    FileLink(SharedFile("k/c", "cine-001.mp4", "video", "video/mp4", 9, "1.2.3"), "https://b.example/c", 0),
    FileLink(SharedFile("k/p", "cine-001-poster.jpg", "poster", "image/jpeg", 9, "1.2.3"), "https://b.example/p", 1),
    FileLink(SharedFile("k/i", "image-002.jpg", "image", "image/jpeg", 9, "1.2.4"), "https://b.example/i", 2),
    FileLink(SharedFile("k/d", "DICOM/IM0001.dcm", "dicom", "application/dicom", 9, "1.2.3"), "https://b.example/d", 3),
]
ABOUT = {"about": About("2026-11-20", "US ABDOMEN"), "error": None}
OPEN_SHARE = {"state": "open", "clinic_name": "K", "token": "tok", "files": OPEN_FILES, "zip": None}

#: Enough context for each page to render its links (StrictUndefined refuses anything missing).
CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "share_gone.html": [{"expired": True}],
    "share_page.html": [
        {"state": "preparing", "clinic_name": "Kliniken", "token": "tok"},
        {**OPEN_SHARE, **ABOUT, "expires_on": "2026-12-31", "may_choose_password": True, "saved": False},
        {**OPEN_SHARE, **ABOUT, "expires_on": "2026-12-31", "may_choose_password": False, "saved": True},
        *(
            {**LOCKED, "lock": lock, "step": 1, "steps": steps, "sent": True, "error": "Fel"}
            for lock, steps in (("link_code", 2), ("password", 1))
        ),
        {**OPEN, "error": None, "saved": False},
        {**OPEN, "files": FILES[2:], "about": About("", ""), "error": "För kort", "saved": False},
    ],
    "share_report.html": [{"report": REPORT, "clinic_name": "Kliniken"}, {"report": REPORT, "clinic_name": ""}],
    "chat.html": [{"role": "patient", "api": f"{BASE}/v/tok", "clinic_name": None, "strings": {}}],
    "chat_error.html": [{"reason": "ended"}],
    "console_sign_in.html": [{"error": None, "csrf": "c"}],
    "console_challenge.html": [{"challenge": "NEW_PASSWORD_REQUIRED", "token": "t", "error": None}],
    "console_studies.html": [
        {**SIGNED_IN, "values": SEARCH, "error": None, **RESULTS},
        {**SIGNED_IN, "values": SEARCH, "error": "date_order", **RESULTS, "studies": []},
    ],
    "console_studies_study.html": [
        {**SIGNED_IN, **STUDY_PAGE},
        {**SIGNED_IN, **STUDY_PAGE, "history": [], "problems": [("fel", "wrong")]},
    ],
    "console_studies_review.html": [{**SIGNED_IN, **REVIEW_PAGE}],
    "console_studies_sent.html": [{**SIGNED_IN, **SENT_PAGE}],
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
            "problems": [],
            "contacts": "",
            "language": "sv",
        },
        {
            **_SIGNED_IN,
            "section": "visits",
            "open_visits": [],
            "shown": 100,
            "languages": ("sv", "en"),
            "problems": [("Kontakt 2 …", "Contact 2 …")],
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
    "console_shares.html": [
        {**SHARE_WORDS, "entries": [HistoryEntry(SHARE, 1, NOW, 0)], "studies": {}, "state": s, "next_cursor": c}
        for s, c in ((None, "abc"), ("live", None))
    ],
    "console_share.html": [
        {**SHARE_WORDS, "detail": ShareDetail(HistoryEntry(SHARE, 1, NOW, 0), None, AUDIT), "done": d, "problem": p}
        for d, p in ((None, None), ("resent", "expired"), ("deleted", "quota"))
    ],
    "console_share_delete.html": [{**SHARE_WORDS, "share": SHARE, "study": None}],
    "console_security.html": [
        {
            **_SIGNED_IN,
            "section": "security",
            "totp": totp,
            "error": error,
            "enabled": enabled,
            "setup": None,
        }
        for totp, error, enabled in ((False, None, False), (False, "password", False), (True, None, True))
    ]
    + [
        {
            **_SIGNED_IN,
            "section": "security",
            "totp": False,
            "error": error,
            "enabled": False,
            "setup": {"qr": "<svg></svg>", "secret": "ABCD EFGH", "sealed": "s"},
        }
        for error in (None, "code")
    ],
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


def test_a_cine_has_a_name_and_its_poster_frame_and_the_poster_is_no_tile_of_its_own() -> None:
    html = render("share_page.html", "sv", **CONTEXTS["share_page.html"][1])
    (video,) = re.findall(r"<video[^>]*>", html)
    assert 'poster="https://b.example/p"' in video
    assert 'aria-label="Filmsekvens cine-001.mp4"' in video
    assert all(attribute in video for attribute in ("playsinline", "muted", "loop"))
    assert html.count('class="tile ') == 2  # the cine and the picture
    assert 'id="viewer"' in html
    assert 'role="status"' not in html
    saved = render("share_page.html", "en", **CONTEXTS["share_page.html"][2])
    assert '<p class="ok" role="status">Your password is saved.' in saved
