"""Ingest over the running local stack: a DICOMweb client we did not write, and large pre-signed uploads."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread
from pydicom.dataset import Dataset

from tests import dicom_files, patient_data
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_a_dicomweb_client_stores_and_searches(stack: Stack) -> None:
    client = DICOMwebClient(
        url=f"{stack.base_url}/dicomweb", headers={"Authorization": f"Bearer {stack.demo['api_key']}"}
    )
    study = "1.2.826.0.1.3680043.8.498.77"
    datasets = [dcmread(io.BytesIO(dicom_files.instance(study_uid=study, frames=f))) for f in (1, 6)]
    response = client.store_instances(datasets=datasets)
    assert len(response.ReferencedSOPSequence) == 2
    assert "FailedSOPSequence" not in response

    found = client.search_for_studies(search_filters={"PatientName": "lindqvist*", "StudyDate": "20261101-20261130"})
    assert study in [s["0020000D"]["Value"][0] for s in found]
    assert client.search_for_studies(search_filters={"PatientID": "no-such-patient"}) == []


def test_in_memory_datasets_without_preamble_are_stored_and_found(stack: Stack) -> None:
    """pydicom 3 writes an in-memory Dataset without preamble and DICM; store_instances sends just that."""
    client = DICOMwebClient(
        url=f"{stack.base_url}/dicomweb", headers={"Authorization": f"Bearer {stack.demo['api_key']}"}
    )
    study = "1.2.826.0.1.3680043.8.498.78"
    datasets = []
    for frames in (1, 3):
        read = dcmread(io.BytesIO(dicom_files.instance(study_uid=study, frames=frames)))
        in_memory = Dataset()
        in_memory.update(read)
        in_memory.file_meta = read.file_meta
        datasets.append(in_memory)
    response = client.store_instances(datasets=datasets)
    assert len(response.ReferencedSOPSequence) == 2
    assert "FailedSOPSequence" not in response
    found = client.search_for_studies(search_filters={"PatientName": "lindq*st*", "StudyInstanceUID": study})
    assert [s["0020000D"]["Value"][0] for s in found] == [study]


def wait_for(check: Any, timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail("timed out waiting for the ingest worker")


def test_large_uploads_go_straight_to_s3_and_the_worker_indexes_them(stack: Stack) -> None:
    key = stack.demo["api_key"]
    status, upload = stack.json("POST", "/studies/uploads", key=key, body={"files": 3})
    assert status == 201
    cine = dicom_files.instance(study_uid="1.2.826.0.1.3680043.8.498.78", frames=90, rows=240, columns=320)
    bodies = [cine, b"this is not a DICOM file", dicom_files.without(dicom_files.instance(), "SOPInstanceUID")]
    for file, body in zip(upload["files"], bodies, strict=True):
        post = file["upload"]
        sent = requests.post(post["url"], data=post["fields"], files={"file": ("f.dcm", body)}, timeout=30)
        assert sent.status_code in (200, 204), sent.text

    def settled() -> Any:
        _, current = stack.json("GET", f"/studies/uploads/{upload['upload_id']}", key=key)
        return current if all(f["status"] != "pending" for f in current["files"]) else None

    result = wait_for(settled)
    assert [f["status"] for f in result["files"]] == ["stored", "failed", "failed"]
    assert "not DICOM" in result["files"][1]["reason"]
    assert "SOP Instance UID" in result["files"][2]["reason"]
    assert patient_data.leaked(json.dumps(result)) == []

    def thumbnail_url() -> Any:
        _, study = stack.json("GET", "/studies/1.2.826.0.1.3680043.8.498.78", key=key)
        return study["series"][0]["instances"][0]["thumbnail_url"]

    url = wait_for(thumbnail_url)
    image = requests.get(url, timeout=10)
    assert image.status_code == 200
    assert image.content[:2] == b"\xff\xd8"
