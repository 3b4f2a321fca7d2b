"""The patient's landing page, in-process on fakes."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain import links
from chalicelib.domain.shares import MAX_FAILED_ATTEMPTS, LinkLocked, WrongSecret, key_actor
from chalicelib.services import accounts, ingest, landing, shares
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data
from tests.fakes import FakeClock, FakeMailer, FakeSmsSender, InMemoryObjectStore
from tests.unit.test_shares import link_in, run_jobs

ACTOR = key_actor("ky_test")

STUDY = "1.2.826.0.1.3680043.8.498.902"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def make_share(
    deps: Deps,
    *,
    anonymizable: bool = True,
    link_code: str | None = None,
    language: str | None = None,
    description: str = "Ultraljud buk",
    parts: list[bytes] | None = None,
) -> str:
    clinic, _ = accounts.create_clinic("Kliniken Väst", deps)
    if link_code is not None:
        deps.clinics.save(replace(clinic, link_code_hash=links.hash_secret(link_code)))
    burned_in = "NO" if anonymizable else "YES"
    parts = parts or [
        dicom_files.instance(study_uid=STUDY, frames=4, burned_in=burned_in, study_description=description),
        dicom_files.instance(
            study_uid=STUDY, sop_class="1.2.840.10008.5.1.4.1.1.6.1", us_region=True, study_description=description
        ),
    ]
    ingest.store_instances(clinic.clinic_id, parts, deps)
    contacts = f"{patient_data.EMAILS[0]}, {patient_data.PHONES[0]}"
    asked = shares.SendRequest(contacts=contacts, language=language)
    shares.send_study(clinic.clinic_id, STUDY, asked, deps, actor=ACTOR)
    run_jobs(deps)
    assert isinstance(deps.mailer, FakeMailer)
    return link_in(deps.mailer.sent[-1].text)


def page(client: Client, token: str, cookie: str | None = None) -> Any:
    headers = {"Accept-Language": "en"}
    if cookie:
        headers["Cookie"] = cookie
    return client.http.get(f"/p/{token}", headers=headers)


def post(client: Client, path: str, body: str = "", cookie: str | None = None) -> Any:
    headers = {**FORM, **({"Cookie": cookie} if cookie else {})}
    return client.http.post(path, headers=headers, body=body)


def cookie_of(response: Any) -> str:
    return str(response.headers["Set-Cookie"]).split(";")[0]


def test_an_open_share_shows_pictures_video_and_download_all(client: Client, deps: Deps) -> None:
    token = make_share(deps)
    response = page(client, token)
    assert response.status_code == 200
    html = response.body.decode()
    assert "Kliniken Väst" in html
    assert "<video" in html
    assert 'class="zoom"' in html
    assert "Download all" in html
    assert f"expires={600}" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert patient_data.leaked(html) == []
    (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
    sent, event = deps.access_log.for_share(share.share_id)
    assert (sent.kind.value, sent.client) == ("sent", ACTOR)  # the audit names who sent it
    assert event.kind.value == "opened"
    assert len(event.client) == 16  # a keyed hash, never the address
    download = client.http.get(f"/p/{token}/files/0")
    assert download.status_code == 302
    assert "attachment" in download.headers["Location"]
    assert [e.kind.value for e in deps.access_log.for_share(share.share_id)] == ["sent", "opened", "downloaded"]
    assert client.http.get(f"/p/{token}/files/99").status_code == 404


def test_swedish_by_default_and_by_accept_language(client: Client, deps: Deps) -> None:
    token = make_share(deps)
    assert "Dina bilder" in client.http.get(f"/p/{token}").body.decode()
    assert "Your images" in page(client, token).body.decode()


def test_unknown_and_deleted_links_look_alike_and_expired_ones_say_so(
    client: Client, deps: Deps, clock: FakeClock
) -> None:
    token = make_share(deps)
    unknown = page(client, links.new_token())
    assert unknown.status_code == 404
    assert page(client, "short").status_code == 404
    (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
    clock.advance(days=91)
    expired = page(client, token)
    assert expired.status_code == 410
    assert "expired" in expired.body.decode()
    clock.current = share.created_at
    shares.delete(share.clinic_id, share.share_id, deps, actor=ACTOR)
    deleted = page(client, token)
    assert deleted.status_code == 404
    assert deleted.body == unknown.body


def test_the_clinic_link_code_unlocks_and_five_wrong_lock(client: Client, deps: Deps, clock: FakeClock) -> None:
    token = make_share(deps, link_code="4711")
    locked = page(client, token)
    assert locked.status_code == 200
    assert "<video" not in locked.body.decode()
    for _ in range(5):
        wrong = post(client, f"/p/{token}/unlock", "secret=1234")
        assert wrong.status_code == 403
        assert "stämmer inte" in wrong.body.decode()  # the page's language: Swedish by default
    right = post(client, f"/p/{token}/unlock", "secret=4711")
    assert right.status_code == 423  # locked even for the right code
    assert right.headers["Retry-After"] == str(15 * 60)
    assert "15 minuter" in right.body.decode()
    assert page(client, token).status_code == 423
    clock.advance(minutes=15)
    unlocked = post(client, f"/p/{token}/unlock", "secret=4711")
    assert unlocked.status_code == 303
    set_cookie = str(unlocked.headers["Set-Cookie"])
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    assert f"Path=/p/{token}" in set_cookie
    assert "<video" in page(client, token, cookie_of(unlocked)).body.decode()


def test_wrong_codes_guessed_side_by_side_each_count(deps: Deps) -> None:
    token = make_share(deps, link_code="4711")
    opened = landing.open_link(token, deps)  # five requests that all read the share before any wrote
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(WrongSecret):
            landing.unlock(opened, landing.Lock.LINK_CODE, "1234", "client", deps)
    with pytest.raises(LinkLocked):
        landing.unlock(opened, landing.Lock.LINK_CODE, "4711", "client", deps)


def test_a_swedish_page_says_what_went_wrong_in_swedish(client: Client, deps: Deps) -> None:
    token = make_share(deps, link_code="4711")
    headers = {**FORM, "Accept-Language": "sv"}
    wrong = client.http.post(f"/p/{token}/unlock", headers=headers, body="secret=1").body.decode()
    assert "stämmer inte" in wrong
    assert "not right" not in wrong


def test_removing_the_clinic_code_removes_the_need(client: Client, deps: Deps) -> None:
    token = make_share(deps, link_code="4711")
    (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
    deps.clinics.save(replace(deps.clinics.get(share.clinic_id), link_code_hash=None))
    assert "<video" in page(client, token).body.decode()


def test_a_share_that_cannot_be_anonymized_asks_for_a_password_sent_as_a_code(client: Client, deps: Deps) -> None:
    token = make_share(deps, anonymizable=False)
    assert isinstance(deps.mailer, FakeMailer)
    assert "one-time code" in page(client, token).body.decode()
    sent = post(client, f"/p/{token}/code", "request=code")
    assert sent.status_code == 303
    code = re.search(r"\b(\d{6})\b", deps.mailer.sent[-1].text)
    assert code is not None
    unlocked = post(client, f"/p/{token}/unlock", f"secret={code.group(1)}")
    assert unlocked.status_code == 303
    cookie = cookie_of(unlocked)
    assert "Choose your own password" in page(client, token, cookie).body.decode()
    chosen = post(client, f"/p/{token}/password", "password=min-egen-kod-1", cookie)
    assert chosen.status_code == 303
    assert chosen.headers["Location"].endswith(f"/p/{token}?saved=1")  # the page then says it was saved
    # Anyone who visits must enter the password: the old cookie no longer opens the page.
    assert "<video" not in page(client, token, cookie).body.decode()
    again = post(client, f"/p/{token}/unlock", "secret=min-egen-kod-1")
    assert "<video" in page(client, token, cookie_of(again)).body.decode()


def test_codes_are_sent_at_most_three_an_hour(client: Client, deps: Deps) -> None:
    token = make_share(deps, anonymizable=False)
    for _ in range(3):
        assert post(client, f"/p/{token}/code", "request=code").status_code == 303
    assert post(client, f"/p/{token}/code", "request=code").status_code == 429


def test_a_forged_cookie_opens_nothing(client: Client, deps: Deps) -> None:
    token = make_share(deps, link_code="4711")
    assert "<video" not in page(client, token, "ps_share=eyJzaGFyZSI6InNoXzEifQ.AAAA").body.decode()


# ------------------------------------------------------------------ their language, their lock, their images


def test_a_short_password_is_refused_on_the_page_in_the_patients_language(client: Client, deps: Deps) -> None:
    token = make_share(deps, anonymizable=False)
    assert post(client, f"/p/{token}/code", "request=code").status_code == 303
    assert isinstance(deps.mailer, FakeMailer)
    code = re.search(r"\b(\d{6})\b", deps.mailer.sent[-1].text)
    assert code is not None
    cookie = cookie_of(post(client, f"/p/{token}/unlock", f"secret={code.group(1)}"))
    for lang, words in (("sv", "Lösenordet måste ha minst 8 tecken"), ("en", "The password must have at least 8")):
        headers = {**FORM, "Cookie": cookie, "Accept-Language": lang}
        refused = client.http.post(f"/p/{token}/password", headers=headers, body="password=kort")
        assert refused.status_code == 422
        assert refused.headers["Content-Type"].startswith("text/html")  # the page again, not JSON
        html = refused.body.decode()
        assert words in html
        assert "characters" not in html if lang == "sv" else "tecken" not in html


#: What each kind of lock makes the link's e-mail (text and HTML) and text message say, and never say.
LOCK_WORDS = {
    "link_code": {
        "sv": ("mottagningens länkkod", ("engångskod", "lösenord")),
        "en": ("the clinic's link code", ("one-time code", "password")),
    },
    "password": {
        "sv": ("engångskod", ("länkkod",)),
        "en": ("one-time code", ("link code",)),
    },
    "both": {
        "sv": ("länkkod", ()),
        "en": ("link code", ()),
    },
}


@pytest.mark.parametrize(
    ("kind", "link_code", "anonymizable"),
    [("link_code", "4711", True), ("password", None, False), ("both", "4711", False), (None, None, True)],
)
@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_link_message_words_the_lock_the_page_has(
    deps: Deps, kind: str | None, link_code: str | None, anonymizable: bool, language: str
) -> None:
    make_share(deps, link_code=link_code, anonymizable=anonymizable, language=language)
    assert isinstance(deps.mailer, FakeMailer)
    assert isinstance(deps.sms, FakeSmsSender)
    email = deps.mailer.sent[-1]
    (_, sms) = deps.sms.sent[-1]
    for text in (email.text, html.unescape(email.html), sms):
        lowered = text.lower()
        if kind is None:  # an open page asks for nothing, and its messages say so by saying nothing
            assert not any(word in lowered for word in ("kod", "code", "lösenord", "password"))
            continue
        says, never = LOCK_WORDS[kind][language]
        assert says in lowered
        assert not any(word in lowered for word in never)
        if kind == "both":  # both secrets, in their order
            secret = "lösenord" if language == "sv" else "password"
            assert lowered.index(says) < lowered.index(secret)


def test_the_page_shows_the_real_date_a_cleaned_description_and_every_size(client: Client, deps: Deps) -> None:
    token = make_share(deps, description="US ABDOMEN Dr Smith 0701-123456")
    english = page(client, token).body.decode()
    assert "<dt>Examination</dt><dd>US ABDOMEN</dd>" in english
    assert '<time datetime="2026-11-20">2026-11-20</time>' in english  # the records' date, not the shifted one
    assert "Smith" not in english
    assert "0701" not in english
    assert re.search(r"Download all \(ZIP, \d+ kB\)", english)
    (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
    shown = [f for f in share.files if f.kind not in ("zip", "poster")]  # a cine's poster is no file of its own
    assert len(re.findall(r"\(\d+ kB\)</a>", english)) == len(shown)  # every file, originals too
    swedish = client.http.get(f"/p/{token}", headers={"Accept-Language": "sv"}).body.decode()
    assert "<dt>Undersökning</dt><dd>US ABDOMEN</dd>" in swedish
    assert "Ladda ner allt (ZIP, " in swedish


def test_the_zip_is_named_after_the_clinic_and_the_study_date(client: Client, deps: Deps) -> None:
    token = make_share(deps)
    (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
    index = next(i for i, f in enumerate(share.files) if f.kind == "zip")
    location = client.http.get(f"/p/{token}/files/{index}").headers["Location"]
    assert location.endswith("disposition=attachment:Kliniken-Vast-2026-11-20.zip")
    assert landing.zip_name("Röntgen Ö/Öst AB", "") == "Rontgen-O-Ost-AB.zip"
    assert landing.zip_name("Вита", "2026-01-02") == "images-2026-01-02.zip"


def test_the_hint_to_tap_a_picture_is_there_only_with_pictures(client: Client, deps: Deps) -> None:
    token = make_share(deps)
    assert "Tap a picture to enlarge it." in page(client, token).body.decode()
    (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
    deps.shares.save(replace(share, files=tuple(f for f in share.files if f.kind != "image")))
    assert "Tap a picture" not in page(client, token).body.decode()


def _unlocked_by_code(client: Client, deps: Deps, token: str) -> str:
    """Ask for a one-time code and unlock with it: the page's cookie."""
    assert post(client, f"/p/{token}/code", "request=code").status_code == 303
    assert isinstance(deps.mailer, FakeMailer)
    code = re.search(r"\b(\d{6})\b", deps.mailer.sent[-1].text)
    assert code is not None
    return cookie_of(post(client, f"/p/{token}/unlock", f"secret={code.group(1)}"))


def test_a_structured_report_is_offered_as_a_page_and_a_pdf_behind_the_same_lock(client: Client, deps: Deps) -> None:
    token = make_share(deps, parts=[dicom_files.structured_report(study_uid=STUDY)])
    locked = page(client, token).body.decode()
    assert "report-001" not in locked  # the report is behind the lock, as the SR is
    assert "Read the report" not in locked
    cookie = _unlocked_by_code(client, deps, token)
    opened = page(client, token, cookie).body.decode()
    assert "Read the report" in opened
    assert "Open the report (PDF)" in opened
    # the report's page opens as a page, not a download
    assert "report-001.html?expires=600&type=text%2Fhtml%3B%20charset%3Dutf-8" in html.unescape(opened)
    assert "Tap a picture" not in opened  # no picture, no hint about pictures
    assert "IM0001.dcm" in opened  # the original is still there for a care provider
    swedish = client.http.get(f"/p/{token}", headers={"Cookie": cookie, "Accept-Language": "sv"}).body.decode()
    assert "Läs rapporten" in swedish
    assert "Öppna rapporten (PDF)" in swedish


def test_an_encapsulated_pdf_opens_as_the_pdf(client: Client, deps: Deps) -> None:
    token = make_share(deps, parts=[dicom_files.pdf_report(study_uid=STUDY)])
    cookie = _unlocked_by_code(client, deps, token)
    opened = html.unescape(page(client, token, cookie).body.decode())
    link = re.search(r'<a href="([^"]+)"[^>]*>Open the report \(PDF\)</a>', opened)
    assert link is not None
    assert link.group(1).endswith("report-001.pdf?expires=600&type=application%2Fpdf")
    (share,) = deps.shares.rows.values()  # type: ignore[attr-defined]
    (document,) = [f for f in share.files if f.kind == "document"]
    store = deps.objects
    assert isinstance(store, InMemoryObjectStore)
    assert store.open("share-bucket", document.key).read().startswith(b"%PDF-")
