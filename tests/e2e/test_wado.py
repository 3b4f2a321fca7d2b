"""WADO-RS over the running local stack: ``dicomweb-client`` fetches, from the RetrieveURL its STOW-RS answer
gave it, the instances it stored: small answers inline, a large one through the redirect to S3."""

from __future__ import annotations

import io

import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from dicomweb_client.uri import URI
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from tests import dicom_files
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def stored_and_retrieve_url(stack: Stack, key: str, batches: list[list[Dataset]]) -> tuple[DICOMwebClient, URI]:
    """Store each batch with STOW-RS; a client for the RetrieveURL the answers gave, and that URL parsed."""
    headers = {"Authorization": f"Bearer {key}"}
    urls = set()
    storing = DICOMwebClient(url=f"{stack.base_url}/dicomweb", headers=headers)
    # Over its chunk size (1 MB) the client streams its body chunked: the local stack reads it as AWS does.
    for datasets in batches:
        answer = storing.store_instances(datasets=datasets)
        assert "FailedSOPSequence" not in answer
        urls |= {item.RetrieveURL for item in answer.ReferencedSOPSequence}
    (url,) = urls
    uri = URI.from_string(url)
    return DICOMwebClient(url=uri.base_url, headers=headers), uri


def by_sop(datasets: list[Dataset]) -> dict[str, bytes]:
    return {ds.SOPInstanceUID: ds.PixelData for ds in datasets}


def test_a_dicomweb_client_retrieves_what_it_stored(stack: Stack) -> None:
    key = stack.new_clinic("Kliniken WADO")
    study = generate_uid()
    sent = [dcmread(io.BytesIO(dicom_files.instance(study_uid=study, frames=f))) for f in (1, 6)]
    client, uri = stored_and_retrieve_url(stack, key, [sent])
    assert uri.study_instance_uid == study

    assert by_sop(client.retrieve_study(uri.study_instance_uid)) == by_sop(sent)

    metadata = [Dataset.from_json(m) for m in client.retrieve_study_metadata(uri.study_instance_uid)]
    assert {m.SOPInstanceUID for m in metadata} == set(by_sop(sent))
    assert all("PixelData" not in m for m in metadata)
    for header in metadata:
        instance = client.retrieve_instance(study, header.SeriesInstanceUID, header.SOPInstanceUID)
        assert instance.PixelData == by_sop(sent)[header.SOPInstanceUID]
        (series,) = client.retrieve_series_metadata(study, header.SeriesInstanceUID)
        assert series["00080018"]["Value"] == [header.SOPInstanceUID]

    stranger = DICOMwebClient(url=uri.base_url, headers={"Authorization": f"Bearer {stack.demo['api_key']}"})
    with pytest.raises(requests.HTTPError) as refused:
        stranger.retrieve_study(study)
    assert refused.value.response.status_code == 404


def test_a_study_too_large_for_a_lambda_answer_comes_through_the_redirect(stack: Stack) -> None:
    key = stack.new_clinic("Kliniken WADO stor")
    study = generate_uid()
    # Two cines of about 3 MB, sent one STOW-RS request each (a request takes at most 4 MB).
    sent = [
        dcmread(io.BytesIO(dicom_files.instance(study_uid=study, frames=13, rows=240, columns=320))) for _ in range(2)
    ]
    client, uri = stored_and_retrieve_url(stack, key, [[ds] for ds in sent])

    # The API answers 303 to a pre-signed URL; the client follows it, without our key, to the local S3.
    assert by_sop(client.retrieve_study(uri.study_instance_uid)) == by_sop(sent)
    direct = requests.get(
        f"{uri.base_url}/studies/{study}",
        headers={"Authorization": f"Bearer {key}", "Accept": 'multipart/related; type="application/dicom"'},
        allow_redirects=False,
        timeout=60,
    )
    assert direct.status_code == 303
    assert direct.headers["Location"].startswith(stack.aws_endpoint)
