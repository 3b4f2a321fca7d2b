"""The console's Upload in-process on fakes: the page and its CSP, forms from the API's upload path, each
file's fate in sv/en, CSRF, and isolation between clinics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.staff import Role
from chalicelib.services import ingest
from chalicelib.services.deps import Deps
from tests import dicom_files
from tests.api.console_helpers import csrf_of, signed_in_as

OTHER_CLINIC = "cl_00000000000000bb"


def ask(client: Client, cookie: str, files: object, csrf: str | None) -> Any:
    headers = {"Cookie": cookie, "Content-Type": "application/json"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return client.http.post("/console/upload/batches", headers=headers, body=json.dumps({"files": files}))


def status(client: Client, cookie: str, upload_id: str, lang: str = "en") -> Any:
    return client.http.get(f"/console/upload/batches/{upload_id}", headers={"Cookie": cookie, "Accept-Language": lang})


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.ADMIN])
def test_the_page_offers_files_and_folders_and_may_post_to_the_ingest_bucket(
    client: Client, deps: Deps, role: Role
) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", role)
    page = client.http.get("/console/upload", headers={"Cookie": cookie, "Accept-Language": "en"})
    assert page.status_code == 200
    html = page.body.decode()
    assert '<input id="pick-files" type="file" multiple>' in html
    assert "webkitdirectory" in html
    assert 'for="pick-folder"' in html
    assert 'for="overall"' in html
    assert "/assets/console_upload.js" in html
    assert "connect-src 'self' memory://ingest-bucket" in page.headers["Content-Security-Policy"]
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    script = client.http.get("/assets/console_upload.js")
    assert script.status_code == 200
    assert "webkitGetAsEntry" in script.body.decode()


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.ADMIN])
def test_files_go_through_the_apis_upload_path_and_their_fates_are_worded(
    client: Client, deps: Deps, role: Role
) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", role)
    asked = ask(client, cookie, 3, csrf_of(client, cookie))
    assert asked.status_code == 201
    upload = asked.json_body
    assert [f["status"] for f in upload["files"]] == ["pending"] * 3
    keys = [f["upload"]["fields"]["key"] for f in upload["files"]]
    assert all(k.startswith(f"uploads/{deps.clinics.get('cl_00000000000000aa').clinic_id}/") for k in keys)
    assert upload["files"][0]["upload"]["url"] == "memory://ingest-bucket"

    # What the browser posts to S3, and what the ingest worker then does with it.
    deps.objects.put(deps.buckets.ingest, keys[0], dicom_files.instance(), "application/dicom")
    deps.objects.put(deps.buckets.ingest, keys[1], b"not dicom at all", "application/octet-stream")
    for key in keys[:2]:
        ingest.ingest_object(key, deps)

    english = status(client, cookie, upload["upload_id"])
    assert english.status_code == 200
    files = english.json_body["files"]
    assert [f["status"] for f in files] == ["stored", "failed", "pending"]
    assert files[0]["explanation"] is None
    assert files[1]["explanation"].startswith("the file is not DICOM")
    assert "not DICOM" in files[1]["reason"]
    swedish = status(client, cookie, upload["upload_id"], "sv").json_body["files"]
    assert swedish[1]["explanation"].startswith("filen är inte DICOM")


def test_bad_requests_are_clear_json_refusals(client: Client, deps: Deps) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)
    csrf = csrf_of(client, cookie)
    for bad in (0, 501, "many", None):
        refused = ask(client, cookie, bad, csrf)
        assert refused.status_code == 422
        assert refused.json_body["Code"]
    assert ask(client, cookie, 500, csrf).status_code == 201  # a whole batch of 500 is one request if need be
    assert status(client, cookie, "up_00000000000000000000").status_code == 404


def test_forms_are_not_handed_out_without_the_csrf_token(client: Client, deps: Deps) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)
    assert ask(client, cookie, 1, None).status_code == 403
    assert ask(client, cookie, 1, "forged").status_code == 403
    signed_out = client.http.post("/console/upload/batches", headers={"Content-Type": "application/json"}, body="{}")
    assert signed_out.status_code == 401  # a script's call: JSON, not the sign-in page
    assert signed_out.json_body["Code"] == "Unauthenticated"
    assert client.http.get("/console/upload/batches/up_00000000000000000000").status_code == 401


def test_another_clinics_upload_is_not_found(client: Client, deps: Deps) -> None:
    theirs = signed_in_as(client, deps, "eva@annan.example", Role.ADMIN, OTHER_CLINIC)
    upload_id = ask(client, theirs, 1, csrf_of(client, theirs)).json_body["upload_id"]
    for role in (Role.CLINICIAN, Role.ADMIN):
        mine = signed_in_as(client, deps, f"{role.value}@klinik.example", role)
        assert status(client, mine, upload_id).status_code == 404
    assert status(client, theirs, upload_id).status_code == 200
