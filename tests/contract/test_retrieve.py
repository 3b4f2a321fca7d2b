"""A WADO-RS answer too large for a Lambda response is streamed into an object, in parts, and its pre-signed
URL serves exactly the multipart body, with its type: on the fakes and on S3 (moto) alike."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import requests
from requests_toolbelt.multipart.decoder import MultipartDecoder  # type: ignore[import-untyped]

from chalicelib.services import accounts, ingest, retrieve
from chalicelib.services.deps import Deps
from chalicelib.services.retrieve import Scope
from tests import dicom_files
from tests.fakes import InMemoryObjectStore

pytestmark = pytest.mark.contract


def fetched(deps: Deps, url: str) -> tuple[str, bytes]:
    """What the pre-signed URL serves: its Content-Type and body."""
    if isinstance(deps.objects, InMemoryObjectStore):
        body, content_type = deps.objects.objects[(deps.buckets.ingest, urlparse(url).path.lstrip("/"))]
        return content_type, body
    response = requests.get(url, timeout=60)
    assert response.status_code == 200
    return response.headers["Content-Type"], response.content


def test_a_large_answer_is_one_object_served_as_multipart(real_or_fake: Deps) -> None:
    deps = real_or_fake
    clinic = accounts.create_clinic("Kliniken Norr", deps)[0].clinic_id
    cines = [dicom_files.instance(study_uid="8.8.8", frames=f, rows=240, columns=320) for f in (30, 25)]
    assert sum(map(len, cines)) > retrieve.CHUNK_BYTES  # more than one part of the object's upload
    ingest.store_instances(clinic, cines, deps)

    answer = retrieve.retrieve(clinic, Scope("8.8.8"), deps)

    assert answer.body is None
    assert answer.location is not None
    content_type, body = fetched(deps, answer.location)
    assert content_type == answer.content_type
    decoded = MultipartDecoder(body, content_type).parts
    assert sorted(p.content for p in decoded) == sorted(cines)
