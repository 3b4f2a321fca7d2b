"""AWS failing for a moment: 503 with Retry-After on a request, a retried message on a worker; once the
fault clears, the same request finishes, with nothing lost and nothing done twice.

The faults come from a client that wraps the real (moto) one and fails its first calls as AWS does, under
the real adapters: no patching.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from chalice.test import Client

from chalicelib import wiring
from chalicelib.adapters.aws import client as aws_client
from chalicelib.adapters.faults import guarded, is_transient
from chalicelib.adapters.s3 import S3ObjectStore
from chalicelib.domain.errors import NotFound, Unavailable
from chalicelib.services import accounts, ingest
from chalicelib.services.deps import Deps
from tests import dicom_files
from tests.fakes import FakeClock, FakeMailer, FakeSmsSender

pytestmark = pytest.mark.contract


class FailingClient:
    """A boto3 client whose first ``failures`` calls of ``operations`` fail, then which works again."""

    def __init__(self, inner: Any, operations: set[str], failures: int, error: Exception) -> None:
        self.inner, self.operations, self.failures, self.error = inner, operations, failures, error

    def __getattr__(self, name: str) -> Any:
        if name not in self.operations or self.failures <= 0:
            return getattr(self.inner, name)

        def fail(*args: Any, **kwargs: Any) -> Any:
            self.failures -= 1
            raise self.error

        return fail


def unavailable(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ServiceUnavailable", "Message": "busy"}, "ResponseMetadata": {"HTTPStatusCode": 503}},
        operation,
    )


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Query")


@pytest.fixture
def s3_down(aws: None, clock: FakeClock) -> Iterator[tuple[Deps, FailingClient]]:
    s3 = FailingClient(aws_client("s3"), {"put_object", "copy", "head_object"}, 2, unavailable("PutObject"))
    real = replace(wiring.build(), clock=clock, mailer=FakeMailer(), sms=FakeSmsSender())
    with wiring.override(replace(real, objects=guarded(S3ObjectStore(s3)))) as deps:
        yield deps, s3


def stow(client: Client, key: str, data: bytes) -> Any:
    body, content_type = dicom_files.multipart_related([data])
    return client.http.post(
        "/dicomweb/studies", headers={"Authorization": f"Bearer {key}", "Content-Type": content_type}, body=body
    )


def test_a_stow_while_s3_fails_is_503_then_stores_once(client: Client, s3_down: tuple[Deps, FailingClient]) -> None:
    deps, s3 = s3_down
    key = accounts.create_clinic("Kliniken Norr", deps)[1].plain_text
    data = dicom_files.instance(study_uid="3.3.3", sop_uid="3.3.3.1")
    refused = stow(client, key, data)
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert set(json.loads(refused.body)) == {"Code", "Message"}
    while s3.failures:
        assert stow(client, key, data).status_code == 503
    stored = stow(client, key, data)
    assert stored.status_code == 200
    found = client.http.get("/dicomweb/studies?StudyInstanceUID=3.3.3", headers={"Authorization": f"Bearer {key}"})
    assert [s["0020000D"]["Value"][0] for s in json.loads(found.body)] == ["3.3.3"]


def test_an_ingest_while_s3_fails_is_retried_not_lost(s3_down: tuple[Deps, FailingClient]) -> None:
    deps, s3 = s3_down
    clinic = accounts.create_clinic("Kliniken Norr", deps)[0].clinic_id
    requested = ingest.request_uploads(clinic, 1, deps)
    key = requested.upload.files[0].object_key
    s3.inner.put_object(Bucket=deps.buckets.ingest, Key=key, Body=dicom_files.instance(study_uid="4.4.4"))
    for _ in range(2):  # the worker's message fails, and SQS delivers it again
        with pytest.raises(Unavailable):
            ingest.ingest_object(key, deps)
    file = ingest.ingest_object(key, deps)
    assert file is not None
    assert [i.object_key for i in deps.studies.instances(clinic, "4.4.4")] == [key]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (unavailable("GetItem"), True),
        (
            ClientError({"Error": {"Code": "ThrottlingException"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Q"),
            True,
        ),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:5000"), True),
        (
            ClientError({"Error": {"Code": "ValidationException"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "Q"),
            False,
        ),
        (NotFound("No such object"), False),
    ],
)
def test_which_faults_are_passing(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
    wrapped = RuntimeError("pynamodb wraps it")
    wrapped.__cause__ = error
    assert is_transient(wrapped) is transient
