"""STOW-RS, QIDO-RS and the console's study routes, in-process on fakes."""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import pytest
from chalice.test import Client
from pydicom.uid import SecondaryCaptureImageStorage

from chalicelib.api import answers
from chalicelib.api.dicomweb import MAX_STOW_BYTES
from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data


@pytest.fixture
def keys(deps: Deps) -> tuple[str, str]:
    return (
        accounts.create_clinic("Kliniken Norr", deps)[1].plain_text,
        accounts.create_clinic("Kliniken Syd", deps)[1].plain_text,
    )


def stow(client: Client, key: str, parts: list[bytes], path: str = "/dicomweb/studies") -> Any:
    body, content_type = dicom_files.multipart_related(parts)
    return client.http.post(
        path,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type, "Accept": "application/dicom+json"},
        body=body,
    )


def get(client: Client, key: str, path: str) -> Any:
    return client.http.get(path, headers={"Authorization": f"Bearer {key}"})


def test_stow_answers_the_standard_store_response(client: Client, keys: tuple[str, str]) -> None:
    good = dicom_files.instance(study_uid="1.2.3", sop_uid="1.2.3.4")
    response = stow(client, keys[0], [good])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/dicom+json"
    body = json.loads(response.body)
    msgspec.convert(body, answers.StowAnswer)  # what the OpenAPI document says, no more, no less
    (referenced,) = body["00081199"]["Value"]
    assert referenced["00081155"]["Value"] == ["1.2.3.4"]
    assert referenced["00081150"]["Value"] == ["1.2.840.10008.5.1.4.1.1.7"]
    assert re.search(
        r"/dicomweb/studies/1\.2\.3/series/[0-9.]+/instances/1\.2\.3\.4$", referenced["00081190"]["Value"][0]
    )
    assert body["00081190"]["Value"][0].endswith("/dicomweb/studies/1.2.3")  # the study's, beside each instance's
    assert "00081198" not in body


def test_stow_with_failures_is_202_and_names_reasons(client: Client, keys: tuple[str, str]) -> None:
    bad_syntax = dicom_files.with_transfer_syntax(dicom_files.instance(sop_uid="7.7.7"), "1.2.840.10008.1.2.4.100")
    response = stow(client, keys[0], [dicom_files.instance(), b"garbage bytes", bad_syntax])
    assert response.status_code == 202
    body = json.loads(response.body)
    failed = body["00081198"]["Value"]
    assert [f["00081197"]["Value"][0] for f in failed] == [0xC000, 0xC122]
    # The instance is named when its header could be read (PS3.18 10.5.3), never when it could not.
    assert "00081155" not in failed[0]
    assert failed[1]["00081155"]["Value"] == ["7.7.7"]
    assert failed[1]["00081150"]["Value"] == [SecondaryCaptureImageStorage]
    upload = json.loads(get(client, keys[0], f"/studies/uploads/{response.headers['X-Upload-Id']}").body)
    assert [f["status"] for f in upload["files"]] == ["stored", "failed", "failed"]
    assert "not DICOM" in upload["files"][1]["reason"]


@pytest.mark.parametrize(("data", "reason"), dicom_files.bad_files())
def test_stow_of_each_bad_file_is_a_failure_not_a_500(
    client: Client, keys: tuple[str, str], data: bytes, reason: str
) -> None:
    response = stow(client, keys[0], [data])
    assert response.status_code == 409
    (failed,) = json.loads(response.body)["00081198"]["Value"]
    assert failed["00081197"]["Value"][0] in (0xC000, 0xC122)
    upload = json.loads(get(client, keys[0], f"/studies/uploads/{response.headers['X-Upload-Id']}").body)
    assert reason in upload["files"][0]["reason"]


def test_stow_to_a_study_names_an_instance_of_another_study_with_its_code(
    client: Client, keys: tuple[str, str]
) -> None:
    other = dicom_files.instance(study_uid="9.9", sop_uid="9.9.1")
    response = stow(client, keys[0], [other], path="/dicomweb/studies/1.2.3")
    assert response.status_code == 409
    (failed,) = json.loads(response.body)["00081198"]["Value"]
    assert failed["00081197"]["Value"] == [0xA900]
    assert failed["00081155"]["Value"] == ["9.9.1"]
    assert failed["00081150"]["Value"] == [SecondaryCaptureImageStorage]


def test_stow_where_everything_fails_is_409(client: Client, keys: tuple[str, str]) -> None:
    assert stow(client, keys[0], [b"not dicom"]).status_code == 409


def test_stow_over_the_payload_limit_points_to_large_uploads(client: Client, keys: tuple[str, str]) -> None:
    response = stow(client, keys[0], [b"\x00" * (MAX_STOW_BYTES + 1)])
    assert response.status_code == 413
    assert "POST /studies/uploads" in json.loads(response.body)["Message"]


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 415),
        ("multipart/related; boundary=x", 415),
        ('multipart/related; type="application/dicom"', 400),
    ],
)
def test_stow_content_types(client: Client, keys: tuple[str, str], content_type: str, status: int) -> None:
    response = client.http.post(
        "/dicomweb/studies", headers={"Authorization": f"Bearer {keys[0]}", "Content-Type": content_type}, body=b"--x--"
    )
    assert response.status_code == status
    assert json.loads(response.body)


def test_qido_finds_by_name_date_and_ids_and_never_across_clinics(client: Client, keys: tuple[str, str]) -> None:
    stow(client, keys[0], [dicom_files.instance(study_uid="1.1", study_date="20261120")])
    stow(client, keys[1], [dicom_files.instance(study_uid="2.2", study_date="20261120")])
    for query in (
        "PatientName=lindq*",
        "PatientID=" + patient_data.PATIENT_IDS[1],
        "StudyDate=20261101-20261130",
        "AccessionNumber=ACC-1001",
        "ModalitiesInStudy=US",
        "00100010=*ASTRID",
        "limit=5&offset=0",
    ):
        response = get(client, keys[0], f"/dicomweb/studies?{query}")
        assert response.status_code == 200, query
        studies = json.loads(response.body)
        assert [s["0020000D"]["Value"][0] for s in studies] == ["1.1"], query
    assert json.loads(get(client, keys[0], "/dicomweb/studies?PatientName=nobody*").body) == []
    (study,) = json.loads(get(client, keys[1], "/dicomweb/studies").body)
    msgspec.convert([study], list[answers.QidoStudy])
    assert study["00100010"]["Value"] == [{"Alphabetic": patient_data.PATIENT_NAMES[2]}]
    assert study["00201208"]["Value"] == [1]


@pytest.mark.parametrize(
    ("query", "says"),
    [("StudyDate=2026-11-20", "StudyDate"), ("limit=0", "limit"), ("offset=-1", "offset"), ("Color=blue", "Color")],
)
def test_qido_bad_parameters(client: Client, keys: tuple[str, str], query: str, says: str) -> None:
    response = get(client, keys[0], f"/dicomweb/studies?{query}")
    assert response.status_code in (400, 422)
    assert says in json.loads(response.body)["Message"]


def test_console_search_and_study_detail(client: Client, keys: tuple[str, str]) -> None:
    stow(client, keys[0], [dicom_files.instance(study_uid="3.3", frames=4), dicom_files.instance(study_uid="3.3")])
    found = json.loads(get(client, keys[0], "/studies?q=astrid").body)["studies"]
    assert [s["study_instance_uid"] for s in found] == ["3.3"]
    assert found[0]["patient_contacts"] == {"phones": [patient_data.PHONES[0]], "emails": [patient_data.EMAILS[0]]}
    detail = json.loads(get(client, keys[0], "/studies/3.3").body)
    assert detail["number_of_instances"] == 2
    assert sorted(i["number_of_frames"] for s in detail["series"] for i in s["instances"]) == [1, 4]
    assert get(client, keys[1], "/studies/3.3").status_code == 404
    assert json.loads(get(client, keys[1], "/studies?q=astrid").body)["studies"] == []


def test_large_uploads_hand_out_presigned_posts(client: Client, keys: tuple[str, str]) -> None:
    headers = {"Authorization": f"Bearer {keys[0]}", "Content-Type": "application/json"}
    response = client.http.post("/studies/uploads", headers=headers, body=json.dumps({"files": 2}))
    assert response.status_code == 201
    body = json.loads(response.body)
    assert [f["status"] for f in body["files"]] == ["pending", "pending"]
    assert body["files"][0]["upload"]["fields"]["key"].startswith("uploads/")
    assert get(client, keys[1], f"/studies/uploads/{body['upload_id']}").status_code == 404
    for bad in ({"files": 0}, {"files": "2"}, {"files": True}):
        assert client.http.post("/studies/uploads", headers=headers, body=json.dumps(bad)).status_code == 422
