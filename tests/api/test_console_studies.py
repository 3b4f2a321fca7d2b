"""The console's Studies section in-process, on fakes: search, a study, review and send, contacts as typed."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from chalice.test import Client
from pydicom.uid import CTImageStorage, UltrasoundImageStorage

from chalicelib.domain.accounts import Clinic
from chalicelib.domain.contacts import masked
from chalicelib.domain.staff import Role
from chalicelib.domain.studies import thumbnail_key
from chalicelib.services import ingest
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data
from tests.api.console_helpers import CLINIC, csrf_of, hidden, post, signed_in_as
from tests.fakes import FakeJobQueue

OTHER = "cl_00000000000000bb"
STUDY = "1.2.826.0.1.3680043.8.498.700"
EN = {"Accept-Language": "en"}


@pytest.fixture
def cookie(client: Client, deps: Deps) -> str:
    deps.clinics.add(Clinic(CLINIC, "Kliniken Mitt", deps.clock.now()))
    return signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)


def index(deps: Deps, clinic: str, study: str, **kwargs: Any) -> None:
    ingest.store_instances(clinic, [dicom_files.instance(study_uid=study, **kwargs)], deps)


def get(client: Client, path: str, cookie: str, lang: str = "en") -> Any:
    return client.http.get(path, headers={"Cookie": cookie, "Accept-Language": lang})


def listed(html: str) -> list[str]:
    """The studies a result page links to, in order."""
    return re.findall(r'href="/console/studies/([0-9.]+)"', html)


# ------------------------------------------------------------------------------------------- search


def test_search_by_lower_case_name_patient_id_accession_and_date(client: Client, deps: Deps, cookie: str) -> None:
    index(deps, CLINIC, STUDY, patient_name="DOE^JANE", patient_id="PID-1", accession="ACC-7", study_date="20261110")
    index(deps, CLINIC, f"{STUDY}.2", patient_name="ROE^RICHARD", patient_id="PID-2", study_date="20261001")
    for query in ("name=doe", "name=jane", "name=jane+do", "patient_id=pid-1", "accession=acc-7",
                  "date_from=2026-11-01&date_to=2026-11-30", "date_from=2026-11-10"):  # fmt: skip
        page = get(client, f"/console/studies?{query}", cookie)
        assert page.status_code == 200, query
        assert listed(page.body.decode()) == [STUDY], query
    everything = get(client, "/console/studies", cookie).body.decode()
    assert listed(everything) == [STUDY, f"{STUDY}.2"]  # newest first
    assert "DOE, JANE" in everything


def test_no_match_and_a_bad_date_range_say_so_in_both_languages(client: Client, deps: Deps, cookie: str) -> None:
    index(deps, CLINIC, STUDY, patient_name="DOE^JANE")
    none = get(client, "/console/studies?name=smith", cookie)
    assert none.status_code == 200
    assert "No studies match the search" in none.body.decode()
    assert "Inga undersökningar matchar" in get(client, "/console/studies?name=smith", cookie, "sv").body.decode()
    backwards = get(client, "/console/studies?date_from=2026-12-01&date_to=2026-11-01", cookie)
    assert backwards.status_code == 422
    assert "The from date is after the to date" in backwards.body.decode()
    swedish = get(client, "/console/studies?date_from=2026-12-01&date_to=2026-11-01", cookie, "sv").body.decode()
    assert "Från-datumet ligger efter till-datumet" in swedish
    nonsense = get(client, "/console/studies?date_from=2026-13-45", cookie)
    assert nonsense.status_code == 422
    assert "YYYY-MM-DD" in nonsense.body.decode()


def test_results_are_paged_newest_first(client: Client, deps: Deps, cookie: str) -> None:
    for day in range(1, 26):
        index(deps, CLINIC, f"{STUDY}.{day}", study_date=f"202611{day:02d}")
    first = get(client, "/console/studies", cookie).body.decode()
    assert listed(first) == [f"{STUDY}.{day}" for day in range(25, 5, -1)]
    assert 'href="/console/studies?offset=20" rel="next"' in first
    assert 'rel="prev"' not in first
    second = get(client, "/console/studies?offset=20", cookie).body.decode()
    assert listed(second) == [f"{STUDY}.{day}" for day in range(5, 0, -1)]
    assert 'href="/console/studies?offset=0" rel="prev"' in second
    assert 'rel="next"' not in second
    narrowed = get(client, "/console/studies?date_from=2026-11-01&date_to=2026-11-22", cookie).body.decode()
    assert "date_from=2026-11-01&amp;date_to=2026-11-22&amp;offset=20" in narrowed  # the search stays on its pages


def test_results_and_study_show_thumbnails_pre_signed_in_the_index_bucket(
    client: Client, deps: Deps, cookie: str
) -> None:
    index(deps, CLINIC, STUDY, sop_uid=f"{STUDY}.1")
    (instance,) = deps.studies.instances(CLINIC, STUDY)
    ingest.ingest_object(instance.object_key, deps)  # the ingest worker's run: it renders the thumbnail
    assert deps.studies.instances(CLINIC, STUDY)[0].thumbnail_key == thumbnail_key(CLINIC, instance.sop_instance_uid)
    page = get(client, "/console/studies", cookie)
    assert f'src="memory://ingest-bucket/thumbnails/{CLINIC}/{STUDY}.1.jpg' in page.body.decode()
    assert "img-src 'self' memory://ingest-bucket" in page.headers["Content-Security-Policy"]
    study = get(client, f"/console/studies/{STUDY}", cookie)
    assert f"memory://ingest-bucket/thumbnails/{CLINIC}/{STUDY}.1.jpg" in study.body.decode()


def test_another_clinics_studies_are_never_listed_and_their_pages_are_404(
    client: Client, deps: Deps, cookie: str
) -> None:
    deps.clinics.add(Clinic(OTHER, "Kliniken Syd", deps.clock.now()))
    index(deps, OTHER, STUDY, patient_name="DOE^JANE", patient_id="PID-1", accession="ACC-7")
    for query in ("", "name=doe", "patient_id=PID-1", "accession=ACC-7", "date_from=2000-01-01"):
        assert listed(get(client, f"/console/studies?{query}", cookie).body.decode()) == []
    assert get(client, f"/console/studies/{STUDY}", cookie).status_code == 404
    csrf = csrf_of(client, cookie)
    review = post(client, f"/console/studies/{STUDY}/review", cookie, csrf=csrf, contacts=patient_data.EMAILS[0],
                  language="sv", lifetime_days="30", all="1")  # fmt: skip
    assert review.status_code == 404
    sent = post(client, f"/console/studies/{STUDY}/send", cookie, csrf=csrf, key="k1",
                contacts=patient_data.EMAILS[0], language="sv", lifetime_days="30", all="1")  # fmt: skip
    assert sent.status_code == 404
    assert deps.shares.for_study(OTHER, STUDY) == []


def test_signed_out_is_sent_to_sign_in(client: Client) -> None:
    assert client.http.get("/console/studies").headers["Location"] == "/console/sign-in"
    assert client.http.get(f"/console/studies/{STUDY}").headers["Location"] == "/console/sign-in"


# -------------------------------------------------------------------------------------- the study


def two_series(deps: Deps) -> None:
    """An ultrasound image with regions, one without (behind the password), and a CT series of two."""
    us = f"{STUDY}.1"
    ct = f"{STUDY}.2"
    parts = [
        dicom_files.instance(study_uid=STUDY, series_uid=us, sop_uid=f"{us}.1", sop_class=UltrasoundImageStorage,
                             us_region=True),
        dicom_files.instance(study_uid=STUDY, series_uid=us, sop_uid=f"{us}.2", sop_class=UltrasoundImageStorage),
        dicom_files.instance(study_uid=STUDY, series_uid=ct, sop_uid=f"{ct}.1", sop_class=CTImageStorage),
        dicom_files.instance(study_uid=STUDY, series_uid=ct, sop_uid=f"{ct}.2", sop_class=CTImageStorage),
    ]  # fmt: skip
    ingest.store_instances(CLINIC, parts, deps)


def test_the_study_page_offers_every_image_with_its_verdict_and_the_clinics_defaults(
    client: Client, deps: Deps, cookie: str
) -> None:
    two_series(deps)
    html = get(client, f"/console/studies/{STUDY}", cookie).body.decode()
    assert html.count('name="instance"') == 4
    assert html.count('name="series"') == 2
    assert 'id="all" name="all" value="1"' in html
    for box in re.findall(r'<input type="checkbox" id="([^"]+)"', html):
        assert f'<label for="{box}">' in html or f'<label for="{box}">\n' in html or f'for="{box}"' in html
    assert "needs the patient&#39;s password" in html
    assert "An ultrasound image without usable regions" in html
    assert 'value="90"' in html  # the clinic's lifetime
    assert '<option value="sv" selected>' in html
    assert "/assets/console_studies.js" in html


def review(client: Client, cookie: str, **fields: str) -> Any:
    defaults = {"csrf": csrf_of(client, cookie), "contacts": patient_data.EMAILS[0], "language": "en",
                "lifetime_days": "30"}  # fmt: skip
    return post(client, f"/console/studies/{STUDY}/review", cookie, **{**defaults, **fields})


def test_review_then_send_sends_once_even_when_submitted_twice(
    client: Client, deps: Deps, cookie: str, service_logs: Any
) -> None:
    two_series(deps)
    summary = client.http.post(
        f"/console/studies/{STUDY}/review",
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"},
        body=f"csrf={csrf_of(client, cookie)}&contacts={patient_data.PHONES[0]}&language=en&lifetime_days=30&all=1",
    )
    assert summary.status_code == 200
    html = summary.body.decode()
    assert "Images that go out anonymized: <strong>3</strong> of 4." in html
    assert "the link will ask for the patient&#39;s own password" in html
    assert "An ultrasound image without usable regions" in html
    assert "Only a phone number was given" in html  # the service's SMS-only warning
    key = hidden(html, "key")
    jobs = deps.jobs
    assert isinstance(jobs, FakeJobQueue)
    assert jobs.sent == []  # nothing is sent by the review

    fields = {name: hidden(html, name) for name in ("csrf", "key", "contacts", "language", "lifetime_days", "all")}
    first = post(client, f"/console/studies/{STUDY}/send", cookie, **fields)
    again = post(client, f"/console/studies/{STUDY}/send", cookie, **fields)  # a double click
    assert first.status_code == again.status_code == 200
    (share,) = deps.shares.for_study(CLINIC, STUDY)
    assert share.sop_instance_uids is None
    assert [q for q, _ in jobs.sent] == ["share"]
    assert first.body == again.body
    assert f'href="/console/shares/{share.share_id}"' in first.body.decode()
    assert f"{patient_data.PHONES[0]}: ett sms med länken, och på begäran en engångskod" in first.body.decode()
    assert f'"share_id":"{share.share_id}"' in service_logs().replace(" ", "")
    assert key
    assert patient_data.leaked(service_logs()) == []

    history = get(client, f"/console/studies/{STUDY}", cookie).body.decode()
    assert f'href="/console/shares/{share.share_id}"' in history
    assert "3 anonymized; the link needs the patient&#39;s password" in history
    assert "Series / image 1 / 1, password: An ultrasound image without usable regions" in history
    assert patient_data.PHONES[0] not in history
    assert f'<span class="contact">Text {masked(share.deliveries[0].contact)}</span>' in history  # as on Shares
    assert "<td>Being prepared</td>" in history  # the share's state, worded as the Shares pages word it


def test_chosen_series_and_images_are_what_is_sent(client: Client, deps: Deps, cookie: str) -> None:
    two_series(deps)
    ct, us = f"{STUDY}.2", f"{STUDY}.1"
    html = client.http.post(
        f"/console/studies/{STUDY}/review",
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"},
        body=f"csrf={csrf_of(client, cookie)}&contacts={patient_data.EMAILS[0]}&language=en&lifetime_days=30"
        f"&series={ct}&instance={us}.1",
    ).body.decode()
    assert "Images that go out anonymized: <strong>3</strong> of 3." in html
    assert re.findall(r'name="instance" value="([^"]+)"', html) == [f"{us}.1", f"{ct}.1", f"{ct}.2"]
    fields = {name: hidden(html, name) for name in ("csrf", "key", "contacts", "language", "lifetime_days")}
    body = "&".join([*(f"{k}={v}" for k, v in fields.items()), *(f"instance={u}" for u in (f"{us}.1", f"{ct}.1"))])
    sent = client.http.post(
        f"/console/studies/{STUDY}/send",
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        body=body,
    )
    assert sent.status_code == 200
    (share,) = deps.shares.for_study(CLINIC, STUDY)
    assert share.sop_instance_uids == (f"{us}.1", f"{ct}.1")
    assert share.language == "en"
    assert (share.expires_at - share.created_at).days == 30


def test_nothing_chosen_bad_contacts_and_a_bad_lifetime_are_refused_on_the_form(
    client: Client, deps: Deps, cookie: str
) -> None:
    two_series(deps)
    refused = review(client, cookie, contacts=f"astrid@, {patient_data.EMAILS[0]}, 08-123 456 78, nope",
                     lifetime_days="400")  # fmt: skip
    assert refused.status_code == 422
    html = refused.body.decode()
    assert "Kontakt 1 är varken en giltig e-postadress eller ett telefonnummer." in html  # the form's own language
    assert "Kontakt 3 är inte ett mobilnummer (sms kräver ett)." in html
    assert "Kontakt 4 är varken en giltig e-postadress eller ett telefonnummer." in html
    assert "Länkens livslängd ska vara 1–365 dagar." in html
    assert "Välj minst en bild ur undersökningen." in html  # neither "all" nor any image
    assert 'value="400"' in html  # what was typed stays in the form
    assert deps.shares.for_study(CLINIC, STUDY) == []


def test_send_without_the_reviews_key_is_refused(client: Client, deps: Deps, cookie: str) -> None:
    two_series(deps)
    refused = post(client, f"/console/studies/{STUDY}/send", cookie, csrf=csrf_of(client, cookie),
                   contacts=patient_data.EMAILS[0], language="sv", lifetime_days="30", all="1")  # fmt: skip
    assert refused.status_code == 422
    assert deps.shares.for_study(CLINIC, STUDY) == []
    forged = post(client, f"/console/studies/{STUDY}/send", cookie, csrf="x", key="k",
                  contacts=patient_data.EMAILS[0], language="sv", lifetime_days="30", all="1")  # fmt: skip
    assert forged.status_code == 403
    assert deps.shares.for_study(CLINIC, STUDY) == []


# ------------------------------------------------------------------------------- contacts as typed


def check(client: Client, cookie: str, contacts: str, lang: str, csrf: str | None = None) -> Any:
    headers = {"Cookie": cookie, "Content-Type": "application/json", "Accept-Language": lang,
               "X-CSRF-Token": csrf if csrf is not None else csrf_of(client, cookie)}  # fmt: skip
    return client.http.post("/console/contacts/check", headers=headers, body=json.dumps({"contacts": contacts}))


def test_contacts_are_checked_as_typed_naming_every_bad_one_by_position(
    client: Client, deps: Deps, cookie: str
) -> None:
    typed = f"{patient_data.EMAILS[0]}, astrid@, 08-123 456 78, {patient_data.PHONES[0]}, 12"
    english = check(client, cookie, typed, "en")
    assert english.status_code == 200
    assert json.loads(english.body) == {
        "valid": False,
        "problems": [
            "Contact 2 is not a valid e-mail address or phone number.",
            "Contact 3 is not a mobile number (text messages need one).",
            "Contact 5 is not a valid e-mail address or phone number.",
        ],
    }
    swedish = json.loads(check(client, cookie, typed, "sv").body)
    assert swedish["problems"] == [
        "Kontakt 2 är varken en giltig e-postadress eller ett telefonnummer.",
        "Kontakt 3 är inte ett mobilnummer (sms kräver ett).",
        "Kontakt 5 är varken en giltig e-postadress eller ett telefonnummer.",
    ]
    assert json.loads(check(client, cookie, f"{patient_data.EMAILS[0]}, 070-123 45 67", "en").body) == {
        "valid": True,
        "problems": [],
    }
    assert json.loads(check(client, cookie, " , ", "en").body)["problems"] == [
        "Type at least one e-mail address or mobile number."
    ]
    forged = check(client, cookie, typed, "en", csrf="forged")
    assert forged.status_code == 403
    assert json.loads(forged.body)["Code"] == "Forbidden"  # a script's call: the JSON error, not a page
    signed_out = client.http.post(
        "/console/contacts/check",
        headers={"Content-Type": "application/json", "X-CSRF-Token": "x"},
        body=json.dumps({"contacts": typed}),
    )
    assert signed_out.status_code == 401  # not a redirect to a form a script cannot follow
    assert json.loads(signed_out.body)["Code"] == "Unauthenticated"


def test_contacts_are_read_in_the_clinics_country(client: Client, deps: Deps, cookie: str) -> None:
    norwegian_mobile = "412 34 567"
    assert json.loads(check(client, cookie, norwegian_mobile, "en").body)["valid"] is False  # read as Swedish
    deps.clinics.save(replace(deps.clinics.get(CLINIC), country="NO"))
    assert json.loads(check(client, cookie, norwegian_mobile, "en").body)["valid"] is True
