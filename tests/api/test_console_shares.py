"""The console's Shares section: the clinic's list, a share's page and audit, resend, delete and lifting a lock
(in-process, on fakes)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain import links
from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.deliveries import Bounce, Delivery, DeliveryStatus
from chalicelib.domain.shares import (
    MAX_FAILED_ATTEMPTS,
    AccessEvent,
    AccessKind,
    Share,
    ShareStatus,
    client_fingerprint,
    key_actor,
    new_share_id,
    share_token,
    staff_actor,
)
from chalicelib.domain.staff import Role
from chalicelib.domain.studies import Study
from chalicelib.services.deps import Deps
from tests import patient_data
from tests.api.console_helpers import CLINIC, csrf_of, post, signed_in_as
from tests.fakes import FakeClock, FakeJobQueue

OTHER_CLINIC = "cl_00000000000000bb"
STUDY = "1.2.826.0.1.3680043.8.498.321"
LINK_CODE = "4711"
EN = {"Accept-Language": "en"}
SV = {"Accept-Language": "sv"}


@pytest.fixture
def admin(client: Client, deps: Deps) -> str:
    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.ADMIN)
    deps.studies.put_study(
        Study(
            CLINIC,
            STUDY,
            patient_data.PATIENT_NAMES[2],
            patient_data.PATIENT_IDS[1],
            "19800101",
            "20261120",
            "101500",
            "ACC-1001",
            "Ultraljud buk",
            ("US",),
            1,
            2,
            (),
            (),
            deps.clock.now(),
        )
    )
    return cookie


@pytest.fixture
def clinician(client: Client, deps: Deps, admin: str) -> str:
    return signed_in_as(client, deps, "bo@klinik.example", Role.CLINICIAN)


@pytest.fixture
def other_admin(client: Client, deps: Deps) -> str:
    return signed_in_as(client, deps, "cilla@syd.example", Role.ADMIN, clinic_id=OTHER_CLINIC)


def a_share(
    deps: Deps, *, clinic_id: str = CLINIC, study: str = STUDY, age_days: int = 0, **changes: Any
) -> tuple[Share, str]:
    """A share made ``age_days`` ago for 90 days, ready, with both patient contacts, stored; and its link's token."""
    now = deps.clock.now() - timedelta(days=age_days)
    share = Share(
        share_id=new_share_id(),
        clinic_id=clinic_id,
        study_instance_uid=study,
        sop_instance_uids=None,
        deliveries=(
            Delivery(1, Contact(ContactKind.EMAIL, patient_data.EMAILS[0]), DeliveryStatus.DELIVERED, None, 1, now),
            Delivery(2, Contact(ContactKind.SMS, patient_data.PHONES[0]), DeliveryStatus.SENT, None, 1, now),
        ),
        language="sv",
        token_hash="",
        token_nonce=links.new_nonce(),
        created_at=now,
        expires_at=now + timedelta(days=90),
        last_sent_at=now,
        status=ShareStatus.READY,
        **changes,
    )
    token = share_token(deps.keys.key_ring().current, share)
    share = replace(share, token_hash=links.token_hash(token))
    deps.shares.add(share)
    return share, token


def no_full_contact(html: str) -> bool:
    """Whether a page shows no patient e-mail address or phone number whole."""
    return not any(value in html for value in (*patient_data.EMAILS, *patient_data.PHONES))


def shown_share_ids(html: str) -> list[str]:
    return re.findall(r'href="/console/shares/(sh_[0-9a-f]+)"', html)


def page(client: Client, path: str, cookie: str, lang: dict[str, str] = EN) -> Any:
    return client.http.get(path, headers={"Cookie": cookie, **lang})


def post_en(client: Client, path: str, cookie: str, csrf: str) -> Any:
    """A console form's post from a browser that asks for English (``post`` leaves the language to the page)."""
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", **EN}
    return client.http.post(path, headers=headers, body=f"csrf={csrf}")


def test_the_list_shows_the_clinics_shares_newest_first_recognisably_and_masked(
    client: Client, deps: Deps, clock: FakeClock, admin: str, other_admin: str
) -> None:
    first, _ = a_share(deps)
    clock.advance(minutes=5)
    second, _ = a_share(deps)
    for kind in (AccessKind.OPENED, AccessKind.OPENED, AccessKind.DOWNLOADED):
        deps.access_log.record(AccessEvent(second.share_id, clock.now(), kind, "f" * 16), second.expires_at)
    theirs, _ = a_share(deps, clinic_id=OTHER_CLINIC)

    response = page(client, "/console/shares", admin)
    assert response.status_code == 200
    html = response.body.decode()
    assert shown_share_ids(html) == [second.share_id, first.share_id]
    assert "Lindqvist, Astrid · Ultraljud buk · 2026-11-20" in html  # the clinician recognises the study
    assert "E-mail •••ist@•••.org" in html
    assert "Text •••4567" in html
    assert "delivered" in html
    assert "2 / 1" in html  # opened twice, downloaded once
    assert "2027-02-21" in html  # expires
    assert no_full_contact(html)
    assert theirs.share_id not in html
    assert '<a href="/console/shares" aria-current="page">All</a>' in html

    swedish = page(client, "/console/shares", admin, SV).body.decode()
    assert "Delningar" in swedish
    assert "levererat" in swedish
    assert "E-post •••ist@•••.org" in swedish

    theirs_page = page(client, "/console/shares", other_admin).body.decode()
    assert shown_share_ids(theirs_page) == [theirs.share_id]


def test_filters_keep_live_expired_or_deleted_links(client: Client, deps: Deps, clock: FakeClock, admin: str) -> None:
    expired, _ = a_share(deps, age_days=91)
    deleted, _ = a_share(deps)
    deps.shares.save(deleted.deleted(clock.now()))
    live, _ = a_share(deps)
    for status, wanted in (("live", [live]), ("expired", [expired]), ("deleted", [deleted])):
        html = page(client, f"/console/shares?status={status}", admin).body.decode()
        assert shown_share_ids(html) == [s.share_id for s in wanted], status
        assert f'<a href="/console/shares?status={status}" aria-current="page">' in html
    assert page(client, "/console/shares?status=lost", admin).status_code == 422


def test_the_list_pages_on_with_its_cursor(client: Client, deps: Deps, clock: FakeClock, admin: str) -> None:
    made = []
    for _ in range(27):
        made.append(a_share(deps)[0])
        clock.advance(minutes=1)
    newest_first = [s.share_id for s in reversed(made)]
    first = page(client, "/console/shares", admin).body.decode()
    assert shown_share_ids(first) == newest_first[:25]
    older = re.search(r'<a rel="next" href="([^"]+)">Older shares</a>', first)
    assert older
    second = page(client, older.group(1).replace("&amp;", "&"), admin).body.decode()
    assert shown_share_ids(second) == newest_first[25:]
    assert 'rel="next"' not in second
    assert page(client, "/console/shares?cursor=not-a-cursor", admin).status_code == 422


def test_a_shares_page_shows_its_facts_and_who_did_what(
    client: Client, deps: Deps, clock: FakeClock, admin: str, other_admin: str
) -> None:
    share, _ = a_share(deps)
    anna = deps.staff.members(CLINIC)[0]
    cilla = deps.staff.members(OTHER_CLINIC)[0]
    visitor = client_fingerprint(b"k" * 32, "192.0.2.1")
    for kind, client_id, detail in (
        (AccessKind.SENT, staff_actor(anna.staff_id), None),
        (AccessKind.RESENT, key_actor("ky_integration"), None),
        (AccessKind.OPENED, visitor, None),
        (AccessKind.DOWNLOADED, visitor, "IM0001.jpg"),
        (AccessKind.DELETED, staff_actor(cilla.staff_id), None),  # not this clinic's member: never named
        (AccessKind.LOCK_LIFTED, staff_actor("gone"), None),
    ):
        deps.access_log.record(
            AccessEvent(share.share_id, clock.advance(minutes=1), kind, client_id, detail), share.expires_at
        )

    html = page(client, f"/console/shares/{share.share_id}", admin).body.decode()
    audit = html.split('id="audit"', 1)[1]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", audit, re.S)
    assert [(who.strip(), what.strip()) for _, who, what in rows] == [
        ("anna@klinik.example", "sent the link"),
        ("API key ky_integration", "sent the link again"),
        (f'the patient <span class="muted">({visitor[:8]})</span>', "opened the link"),
        (f'the patient <span class="muted">({visitor[:8]})</span>', "downloaded IM0001.jpg"),
        ("a former staff member", "deleted the link"),
        ("a former staff member", "lifted the lock"),
    ]
    assert visitor not in html  # the hash shortened
    assert "cilla@syd.example" not in html
    assert "Lindqvist, Astrid" in html
    assert "ACC-1001" in html
    assert f'href="/console/studies/{STUDY}"' in html
    assert "Opened</dt>" in html
    assert no_full_contact(html)
    assert page(client, f"/console/shares/{share.share_id}", other_admin).status_code == 404
    assert page(client, "/console/shares/sh_00000000000000000000", admin).status_code == 404


def test_resend_sends_the_same_link_and_says_it_does_not_extend_it(
    client: Client, deps: Deps, clock: FakeClock, admin: str
) -> None:
    bounced = Delivery(
        1, Contact(ContactKind.EMAIL, patient_data.EMAILS[1]), DeliveryStatus.BOUNCED, bounce=Bounce.HARD
    )
    share, _ = a_share(deps)
    share = deps.shares.save(replace(share, deliveries=(bounced, share.deliveries[1])))
    html = page(client, f"/console/shares/{share.share_id}", admin).body.decode()
    assert "Sends the same link again. It still expires on" in html

    done = post(client, f"/console/shares/{share.share_id}/resend", admin, csrf=csrf_of(client, admin))
    assert done.status_code == 303
    assert done.headers["Location"] == f"/console/shares/{share.share_id}?done=resent"
    assert isinstance(deps.jobs, FakeJobQueue)
    assert deps.jobs.sent == [("delivery", {"share_id": share.share_id})]
    assert deps.shares.get(share.share_id).expires_at == share.expires_at
    (event,) = deps.access_log.for_share(share.share_id)
    assert (event.kind, event.client) == (AccessKind.RESENT, staff_actor(deps.staff.members(CLINIC)[0].staff_id))

    result = page(client, done.headers["Location"], admin).body.decode()
    notice = result.split('role="status"', 1)[1].split("</div>", 1)[0]
    assert 'Sends the same link again. It still expires on <time datetime="2027-02-21">2027-02-21</time>.' in notice
    assert "Not sent to:" in notice
    assert "E-mail •••erg@•••.com" in notice  # the bounced address, named masked, with the advice
    assert "Delete the link and send it to the right address." in notice
    assert no_full_contact(result)
    swedish = page(client, done.headers["Location"], admin, SV).body.decode()
    assert "Skickar samma länk igen. Länken gäller fortfarande till" in swedish


def test_refused_resends_are_explained_in_the_pages_language(
    client: Client, deps: Deps, clock: FakeClock, admin: str
) -> None:
    csrf = csrf_of(client, admin)
    expired, _ = a_share(deps, age_days=91)
    retired = a_share(deps)[0]
    retired = deps.shares.save(replace(retired, token_nonce=links.new_nonce()))  # its hash no longer matches a key
    preparing = deps.shares.save(replace(a_share(deps)[0], status=ShareStatus.QUEUED))

    gone = post_en(client, f"/console/shares/{expired.share_id}/resend", admin, csrf)
    assert gone.status_code == 410
    assert "The link has expired and cannot be sent again. Send a new link from the study." in gone.body.decode()
    assert f'<a href="/console/studies/{STUDY}">To the study</a>' in gone.body.decode()
    swedish = post(client, f"/console/shares/{expired.share_id}/resend", admin, csrf=csrf).body.decode()
    assert "Länken har gått ut och kan inte skickas igen. Skicka en ny länk från undersökningen." in swedish

    refused = post_en(client, f"/console/shares/{retired.share_id}/resend", admin, csrf)
    assert refused.status_code == 409
    assert "security key that is no longer in use" in refused.body.decode()
    assert "retired" not in refused.body.decode().lower()  # not the service's raw English
    still = post(client, f"/console/shares/{preparing.share_id}/resend", admin, csrf=csrf)
    assert still.status_code == 409
    assert "Filerna förbereds fortfarande" in still.body.decode()

    live, _ = a_share(deps)
    clinic = deps.clinics.get(CLINIC)
    deps.clinics.save(replace(clinic, daily_message_limit=1))  # two contacts to reach, room for one
    quota = post(client, f"/console/shares/{live.share_id}/resend", admin, csrf=csrf)
    assert quota.status_code == 429
    assert int(quota.headers["Retry-After"]) > 0
    assert "Klinikens gräns för e-post och sms i dag är nådd" in quota.body.decode()
    assert deps.jobs.sent == []  # type: ignore[attr-defined]


def test_delete_asks_first_then_the_patients_link_is_gone(client: Client, deps: Deps, admin: str) -> None:
    share, token = a_share(deps)
    assert client.http.get(f"/p/{token}").status_code == 200
    confirm = page(client, f"/console/shares/{share.share_id}/delete", admin)
    assert confirm.status_code == 200
    html = confirm.body.decode()
    assert "Delete the link sent to" in html
    assert "E-mail •••ist@•••.org" in html
    assert "The patient&#39;s link stops working at once." in html
    assert f'action="/console/shares/{share.share_id}/delete"' in html
    assert f'<a href="/console/shares/{share.share_id}">Cancel</a>' in html
    assert no_full_contact(html)
    assert deps.shares.get(share.share_id).deleted_at is None  # asking changes nothing

    done = post(client, f"/console/shares/{share.share_id}/delete", admin, csrf=csrf_of(client, admin))
    assert done.status_code == 303
    assert done.headers["Location"] == f"/console/shares/{share.share_id}?done=deleted"
    assert deps.shares.get(share.share_id).deleted_at is not None
    assert client.http.get(f"/p/{token}").status_code == 404
    after = page(client, done.headers["Location"], admin).body.decode()
    assert "The link is deleted." in after
    assert "<dt>Status</dt><dd>Deleted</dd>" in after
    assert "/resend" not in after
    assert page(client, f"/console/shares/{share.share_id}/delete", admin).status_code == 303  # nothing left to ask


def test_an_admin_lifts_a_patients_lock_and_a_clinician_cannot(
    client: Client, deps: Deps, clock: FakeClock, admin: str, clinician: str
) -> None:
    deps.clinics.save(replace(deps.clinics.get(CLINIC), link_code_hash=links.hash_secret(LINK_CODE)))
    share, token = a_share(deps, link_code_hash=deps.clinics.get(CLINIC).link_code_hash)
    form = {"Content-Type": "application/x-www-form-urlencoded", **EN}
    for n in range(MAX_FAILED_ATTEMPTS):
        client.http.post(f"/p/{token}/unlock", headers=form, body=f"secret={n:04d}")
    assert client.http.post(f"/p/{token}/unlock", headers=form, body=f"secret={LINK_CODE}").status_code == 423

    seen_by_clinician = page(client, f"/console/shares/{share.share_id}", clinician).body.decode()
    assert "Locked until" in seen_by_clinician
    assert "/unlock" not in seen_by_clinician
    refused = post(client, f"/console/shares/{share.share_id}/unlock", clinician, csrf=csrf_of(client, clinician))
    assert refused.status_code == 403
    assert deps.shares.get(share.share_id).attempts.locked(clock.now())

    seen_by_admin = page(client, f"/console/shares/{share.share_id}", admin).body.decode()
    assert "Locked until" in seen_by_admin
    assert f'action="/console/shares/{share.share_id}/unlock"' in seen_by_admin
    lifted = post(client, f"/console/shares/{share.share_id}/unlock", admin, csrf=csrf_of(client, admin))
    assert lifted.status_code == 303
    assert lifted.headers["Location"] == f"/console/shares/{share.share_id}?done=lock_lifted"
    assert "The lock is lifted." in page(client, lifted.headers["Location"], admin).body.decode()
    events = deps.access_log.for_share(share.share_id)
    assert (events[-1].kind, events[-1].client) == (
        AccessKind.LOCK_LIFTED,
        staff_actor(deps.staff.members(CLINIC)[0].staff_id),
    )
    assert client.http.post(f"/p/{token}/unlock", headers=form, body=f"secret={LINK_CODE}").status_code == 303

    again = post(client, f"/console/shares/{share.share_id}/unlock", admin, csrf=csrf_of(client, admin))
    assert again.headers["Location"] == f"/console/shares/{share.share_id}?done=not_locked"
    assert [e.kind for e in deps.access_log.for_share(share.share_id)].count(AccessKind.LOCK_LIFTED) == 1


def test_no_page_or_action_reaches_another_clinics_share(
    client: Client, deps: Deps, admin: str, other_admin: str
) -> None:
    share, _ = a_share(deps)
    for _ in range(MAX_FAILED_ATTEMPTS):
        deps.shares.take_attempt(share.share_id, deps.clock.now())
    csrf = csrf_of(client, other_admin)
    assert page(client, f"/console/shares/{share.share_id}", other_admin).status_code == 404
    assert page(client, f"/console/shares/{share.share_id}/delete", other_admin).status_code == 404
    for action in ("resend", "delete", "unlock"):
        response = post(client, f"/console/shares/{share.share_id}/{action}", other_admin, csrf=csrf)
        assert response.status_code == 404, action
        assert no_full_contact(response.body.decode())
    assert deps.shares.get(share.share_id).version == share.version  # never written
    assert deps.shares.get(share.share_id).attempts.locked(deps.clock.now())
    assert deps.access_log.for_share(share.share_id) == []
    assert deps.jobs.sent == []  # type: ignore[attr-defined]


def test_every_change_needs_the_sessions_csrf_token(client: Client, deps: Deps, admin: str) -> None:
    share, _ = a_share(deps)
    for _ in range(MAX_FAILED_ATTEMPTS):
        deps.shares.take_attempt(share.share_id, deps.clock.now())
    for action in ("resend", "delete", "unlock"):
        assert post(client, f"/console/shares/{share.share_id}/{action}", admin).status_code == 403, action
        assert post(client, f"/console/shares/{share.share_id}/{action}", admin, csrf="0" * 64).status_code == 403
    stored = deps.shares.get(share.share_id)
    assert stored.deleted_at is None
    assert stored.attempts.locked(deps.clock.now())
    assert deps.access_log.for_share(share.share_id) == []
    assert deps.jobs.sent == []  # type: ignore[attr-defined]
    assert client.http.get("/console/shares").headers["Location"] == "/console/sign-in"  # no session at all


def test_a_share_of_a_study_no_longer_stored_is_still_listed(client: Client, deps: Deps, admin: str) -> None:
    share, _ = a_share(deps, study="1.2.826.0.1.3680043.8.498.999")
    html = page(client, "/console/shares", admin).body.decode()
    assert shown_share_ids(html) == [share.share_id]
    assert "The study is no longer stored" in html
