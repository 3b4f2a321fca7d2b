"""WADO-RS, in-process on fakes: what STOW-RS stored comes back as stored, only to its own clinic, and a
large answer is a redirect to an object built a chunk at a time."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any, BinaryIO
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from chalice.test import Client
from pydicom import dcmread
from requests_toolbelt.multipart.decoder import MultipartDecoder  # type: ignore[import-untyped]

from chalicelib import wiring
from chalicelib.services import accounts, ingest, retrieve
from chalicelib.services.deps import Deps
from chalicelib.services.retrieve import Scope
from tests import dicom_files, patient_data
from tests.fakes import InMemoryObjectStore

STUDY = "1.2.826.0.1.3680043.8.498.901"
SERIES = ("1.2.826.0.1.3680043.8.498.901.1", "1.2.826.0.1.3680043.8.498.901.2")


@pytest.fixture
def stored(deps: Deps) -> tuple[str, str, str, list[bytes]]:
    """Two clinics' keys and the first clinic's id, with three instances of one study in two series."""
    clinic, key = accounts.create_clinic("Kliniken Norr", deps)
    other_key = accounts.create_clinic("Kliniken Syd", deps)[1].plain_text
    files = [
        dicom_files.instance(study_uid=STUDY, series_uid=SERIES[0], sop_uid=f"{SERIES[0]}.1"),
        dicom_files.instance(study_uid=STUDY, series_uid=SERIES[0], sop_uid=f"{SERIES[0]}.2", frames=3),
        dicom_files.instance(study_uid=STUDY, series_uid=SERIES[1], sop_uid=f"{SERIES[1]}.1"),
    ]
    upload = ingest.store_instances(clinic.clinic_id, files, deps)
    assert all(f.status == "stored" for f in upload.files)
    return key.plain_text, other_key, clinic.clinic_id, files


def get(client: Client, key: str, path: str, accept: str = 'multipart/related; type="application/dicom"') -> Any:
    return client.http.get(path, headers={"Authorization": f"Bearer {key}", "Accept": accept})


def parts(content_type: str, body: bytes) -> list[bytes]:
    decoded = MultipartDecoder(body, content_type)
    assert all(p.headers[b"Content-Type"] == b"application/dicom" for p in decoded.parts)
    return [p.content for p in decoded.parts]


def sop_uids(instances: list[bytes]) -> list[str]:
    return [dcmread(io.BytesIO(i)).SOPInstanceUID for i in instances]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/dicomweb/studies/{STUDY}", [0, 1, 2]),
        (f"/dicomweb/studies/{STUDY}/series/{SERIES[0]}", [0, 1]),
        (f"/dicomweb/studies/{STUDY}/series/{SERIES[1]}/instances/{SERIES[1]}.1", [2]),
    ],
)
def test_retrieve_answers_the_instances_as_stored(
    client: Client, stored: tuple[str, str, str, list[bytes]], path: str, expected: list[int]
) -> None:
    key, _, _, files = stored
    response = get(client, key, path)
    assert response.status_code == 200
    content_type = response.headers["Content-Type"]
    assert content_type.startswith('multipart/related; type="application/dicom"; boundary=')
    assert parts(content_type, response.body) == [files[i] for i in expected]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/dicomweb/studies/{STUDY}/metadata", [f"{SERIES[0]}.1", f"{SERIES[0]}.2", f"{SERIES[1]}.1"]),
        (f"/dicomweb/studies/{STUDY}/series/{SERIES[0]}/metadata", [f"{SERIES[0]}.1", f"{SERIES[0]}.2"]),
        (f"/dicomweb/studies/{STUDY}/series/{SERIES[0]}/instances/{SERIES[0]}.2/metadata", [f"{SERIES[0]}.2"]),
    ],
)
def test_metadata_is_dicom_json_of_the_headers_without_pixel_data(
    client: Client, stored: tuple[str, str, str, list[bytes]], path: str, expected: list[str]
) -> None:
    response = get(client, stored[0], path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/dicom+json"
    answers = json.loads(response.body)
    assert [a["00080018"]["Value"][0] for a in answers] == expected
    for answer in answers:
        assert "7FE00010" not in answer
        assert answer["0020000D"]["Value"] == [STUDY]
        assert answer["00100010"]["Value"] == [{"Alphabetic": patient_data.PATIENT_NAMES[2]}]


@pytest.mark.parametrize(
    "path",
    [
        f"/dicomweb/studies/{STUDY}",
        f"/dicomweb/studies/{STUDY}/metadata",
        f"/dicomweb/studies/{STUDY}/series/{SERIES[0]}",
        f"/dicomweb/studies/{STUDY}/series/{SERIES[0]}/metadata",
        f"/dicomweb/studies/{STUDY}/series/{SERIES[0]}/instances/{SERIES[0]}.1",
        f"/dicomweb/studies/{STUDY}/series/{SERIES[0]}/instances/{SERIES[0]}.1/metadata",
    ],
)
def test_another_clinics_study_is_not_found(
    client: Client, stored: tuple[str, str, str, list[bytes]], path: str
) -> None:
    response = get(client, stored[1], path)
    assert response.status_code == 404
    assert json.loads(response.body)["Code"] == "NotFound"
    assert STUDY not in response.body.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/dicomweb/studies/9.9.9",
        f"/dicomweb/studies/{STUDY}/series/9.9.9",
        f"/dicomweb/studies/{STUDY}/series/{SERIES[1]}/instances/{SERIES[0]}.1",  # an instance of another series
        f"/dicomweb/studies/{STUDY}/series/{SERIES[0]}/instances/9.9.9/metadata",
    ],
)
def test_what_is_not_stored_is_not_found(client: Client, stored: tuple[str, str, str, list[bytes]], path: str) -> None:
    assert get(client, stored[0], path).status_code == 404


@pytest.mark.parametrize("accept", ["", "application/json", "image/jpeg"])
def test_a_retrieve_that_accepts_no_multipart_is_406(
    client: Client, stored: tuple[str, str, str, list[bytes]], accept: str
) -> None:
    response = get(client, stored[0], f"/dicomweb/studies/{STUDY}", accept=accept)
    assert response.status_code == 406
    assert "multipart/related" in json.loads(response.body)["Message"]


def test_a_retrieve_needs_the_key(client: Client, stored: tuple[str, str, str, list[bytes]]) -> None:
    assert client.http.get(f"/dicomweb/studies/{STUDY}").status_code == 401
    assert get(client, "psk_not-a-key", f"/dicomweb/studies/{STUDY}").status_code == 403


class RecordingStore(InMemoryObjectStore):
    """The in-memory store, remembering the largest read made of any object it opened."""

    def __init__(self, inner: InMemoryObjectStore) -> None:
        super().__init__()
        self.objects = inner.objects
        self.largest_read = 0

    def open(self, bucket: str, key: str) -> BinaryIO:
        store = self

        class Reader(io.BytesIO):
            def read(self, size: int | None = -1) -> bytes:
                data = super().read(size)
                store.largest_read = max(store.largest_read, len(data))
                return data

        return Reader(self._get(bucket, key)[0])


def test_a_large_answer_is_built_in_chunks_and_redirected_to(client: Client, deps: Deps) -> None:
    clinic, key = accounts.create_clinic("Kliniken Norr", deps)
    cine = dicom_files.instance(study_uid="5.5.5", frames=40, rows=240, columns=320)  # 9.2 MB
    assert len(cine) > max(retrieve.MAX_INLINE_BYTES, retrieve.CHUNK_BYTES)
    ingest.store_instances(clinic.clinic_id, [cine], deps)
    assert isinstance(deps.objects, InMemoryObjectStore)
    recording = RecordingStore(deps.objects)
    with wiring.override(replace(deps, objects=recording)):
        response = get(client, key.plain_text, "/dicomweb/studies/5.5.5")

    assert response.status_code == 303
    location = urlparse(response.headers["Location"])
    object_key = location.path.lstrip("/")
    assert object_key.startswith(f"retrieve/{clinic.clinic_id}/")
    assert "5.5.5" not in response.headers["Location"]  # the URL names no UID, let alone a patient
    body, content_type = recording.objects[(deps.buckets.ingest, object_key)]
    assert unquote(parse_qs(location.query)["type"][0]) == content_type
    assert parts(content_type, body) == [cine]
    assert 0 < recording.largest_read <= retrieve.CHUNK_BYTES  # the cine was never read whole

    # Asked again, the object already made is served, not made again.
    recording.objects[(deps.buckets.ingest, object_key)] = (b"made once", content_type)
    with wiring.override(replace(deps, objects=recording)):
        again = get(client, key.plain_text, "/dicomweb/studies/5.5.5")
    assert again.headers["Location"] == response.headers["Location"]
    assert recording.objects[(deps.buckets.ingest, object_key)][0] == b"made once"


def test_the_inline_limit_counts_the_multipart_framing(deps: Deps) -> None:
    clinic = accounts.create_clinic("Kliniken Norr", deps)[0].clinic_id
    data = dicom_files.instance(study_uid="6.6.6")
    ingest.store_instances(clinic, [data], deps)
    inline = retrieve.retrieve(clinic, Scope("6.6.6"), deps, max_inline=len(data) + 200)
    assert inline.body is not None
    boundary = inline.content_type.rsplit("=", 1)[1]
    assert len(inline.body) == retrieve.multipart_length(boundary, [len(data)])
    redirected = retrieve.retrieve(clinic, Scope("6.6.6"), deps, max_inline=len(inline.body) - 1)
    assert redirected.body is None
    assert redirected.location is not None


def test_metadata_over_the_inline_limit_is_kept_and_redirected_to(deps: Deps) -> None:
    clinic = accounts.create_clinic("Kliniken Norr", deps)[0].clinic_id
    ingest.store_instances(clinic, [dicom_files.instance(study_uid="7.7.7", sop_uid="7.7.7.1")], deps)
    answer = retrieve.metadata(clinic, Scope("7.7.7"), deps, max_inline=100)
    assert answer.body is None
    assert answer.location is not None
    assert isinstance(deps.objects, InMemoryObjectStore)
    body, content_type = deps.objects.objects[(deps.buckets.ingest, urlparse(answer.location).path.lstrip("/"))]
    assert content_type == "application/dicom+json"
    assert [a["00080018"]["Value"] for a in json.loads(body)] == [["7.7.7.1"]]
