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
from pynamodb.exceptions import QueryError

from chalicelib import wiring
from chalicelib.adapters.aws import client as aws_client
from chalicelib.adapters.faults import guarded, is_transient
from chalicelib.adapters.s3 import S3ObjectStore
from chalicelib.adapters.ses import SesMailer
from chalicelib.adapters.sns import SnsSmsSender
from chalicelib.domain.deliveries import DeliveryStatus
from chalicelib.domain.errors import NotFound, Unavailable
from chalicelib.services import accounts, ingest, shares, visits
from chalicelib.services.deps import Deps
from chalicelib.settings import settings
from tests import dicom_files, patient_data
from tests.fakes import FakeClock, FakeJobQueue, FakeMailer, FakeSmsSender

pytestmark = pytest.mark.contract


class FailingClient:
    """A boto3 client (or an adapter) whose first ``failures`` calls of ``operations`` fail, then which works
    again; ``succeeded`` counts the calls of ``operations`` that went through."""

    def __init__(self, inner: Any, operations: set[str], failures: int, error: Exception) -> None:
        self.inner, self.operations, self.failures, self.error = inner, operations, failures, error
        self.succeeded = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in self.operations:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.failures > 0:
                self.failures -= 1
                raise self.error
            result = attribute(*args, **kwargs)
            self.succeeded += 1
            return result

        return call


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


def run_workers(deps: Deps, rounds: int = 6) -> None:
    """The share and delivery workers over what was queued; a job that raises comes back, as SQS brings it."""
    jobs = deps.jobs
    assert isinstance(jobs, FakeJobQueue)
    for _ in range(rounds):
        pending, jobs.sent[:] = list(jobs.sent), []
        for queue, message in pending:
            try:
                if queue == "share":
                    shares.prepare_and_send(message["share_id"], deps)
                elif "visit_id" in message:
                    visits.redeliver(message["visit_id"], deps)
                else:
                    shares.deliver(message["share_id"], deps)
            except (Unavailable, shares.DeliveriesPending, visits.VisitDeliveriesPending):
                jobs.sent.append((queue, message))
        if not jobs.sent:
            return
    pytest.fail(f"still queued after {rounds} rounds: {jobs.sent}")


@pytest.fixture
def ses_down(aws: None, clock: FakeClock) -> Iterator[tuple[Deps, FailingClient]]:
    cfg = settings()
    ses = FailingClient(aws_client("ses"), {"send_email"}, 2, unavailable("SendEmail"))
    mailer = guarded(SesMailer(ses, cfg.sender_email, cfg.ses_configuration_set))
    real = replace(wiring.build(), clock=clock, mailer=mailer, sms=FakeSmsSender(), jobs=FakeJobQueue())
    with wiring.override(real) as deps:
        yield deps, ses


def test_a_share_started_while_email_fails_reaches_every_contact_once(
    client: Client, ses_down: tuple[Deps, FailingClient]
) -> None:
    deps, ses = ses_down
    clinic, issued = accounts.create_clinic("Kliniken Norr", deps)
    key = issued.plain_text
    ingest.store_instances(clinic.clinic_id, [dicom_files.instance(study_uid="5.5.5")], deps)
    contacts = f"{patient_data.PHONES[0]}, {patient_data.EMAILS[0]}"  # the text goes first, then e-mail fails
    started = client.http.post(
        "/studies/5.5.5/shares",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        body=json.dumps({"contacts": contacts}),
    )
    assert started.status_code == 202
    share_id = json.loads(started.body)["share_id"]

    run_workers(deps)

    share = deps.shares.get(share_id)
    assert [d.status for d in share.deliveries] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert ses.failures == 0
    assert ses.succeeded == 1  # the e-mail went once, after the fault
    assert isinstance(deps.sms, FakeSmsSender)
    assert [phone for phone, _ in deps.sms.sent] == [patient_data.PHONES[0]]  # and the text once


@pytest.fixture
def sns_down(aws: None, clock: FakeClock) -> Iterator[tuple[Deps, FailingClient]]:
    sns = FailingClient(aws_client("sns"), {"publish"}, 2, unavailable("Publish"))
    real = replace(
        wiring.build(), clock=clock, mailer=FakeMailer(), sms=guarded(SnsSmsSender(sns)), jobs=FakeJobQueue()
    )
    with wiring.override(real) as deps:
        yield deps, sns


def test_a_visit_started_while_sms_fails_is_made_once_and_its_link_sent_once(
    client: Client, sns_down: tuple[Deps, FailingClient]
) -> None:
    deps, sns = sns_down
    key = accounts.create_clinic("Kliniken Norr", deps)[1].plain_text
    contacts = f"{patient_data.EMAILS[0]}, {patient_data.PHONES[0]}"  # the e-mail goes first, then SMS fails
    started = client.http.post(
        "/visits",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", "X-Clinician": "dr.norr"},
        body=json.dumps({"contacts": contacts}),
    )
    # The visit is made and its e-mail sent: a 503 would have the clinic make a second visit and e-mail again.
    assert started.status_code == 201, started.body
    visit = json.loads(started.body)
    assert [c["status"] for c in visit["contacts"]] == ["sent", "queued"]

    run_workers(deps)

    stored = deps.visits.get(visit["visit_id"])
    assert [d.status for d in stored.deliveries] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert sns.failures == 0
    assert sns.succeeded == 1
    assert isinstance(deps.mailer, FakeMailer)
    assert len(deps.mailer.sent) == 1


def test_a_dynamodb_fault_on_a_request_is_503_with_retry_after(client: Client, real_deps: Deps) -> None:
    key = accounts.create_clinic("Kliniken Norr", real_deps)[1].plain_text
    cause = ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        "Query",
    )
    failing = FailingClient(real_deps.studies, {"search"}, 1, QueryError("Failed to query items", cause=cause))
    with wiring.override(replace(real_deps, studies=guarded(failing))):
        refused = client.http.get("/dicomweb/studies", headers={"Authorization": f"Bearer {key}"})
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) >= 1
        assert json.loads(refused.body)["Code"] == "Unavailable"
        answered = client.http.get("/dicomweb/studies", headers={"Authorization": f"Bearer {key}"})
        assert answered.status_code == 200
