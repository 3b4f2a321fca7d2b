"""Composition root: the only module that imports adapters.

Real adapters are built once per process, on first use (not at import, so a cold start that never
touches DynamoDB never builds its client). Tests install their own ``Deps`` with ``override``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib.services.deps import Buckets, Deps, Site, VisitPolicy
from chalicelib.settings import settings

_lock = threading.Lock()
_deps: Deps | None = None


def build() -> Deps:
    """The real adapters, talking to AWS (or to the endpoint the settings name)."""
    from chalicelib.adapters.aws import client
    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.cognito import CognitoStaffDirectory
    from chalicelib.adapters.dynamo.accounts import (
        DynamoApiKeyRepository,
        DynamoClinicRepository,
        DynamoSendingCounter,
    )
    from chalicelib.adapters.dynamo.deliveries import DynamoMessageIndex
    from chalicelib.adapters.dynamo.idempotency import persistence_store
    from chalicelib.adapters.dynamo.shares import DynamoAccessLog, DynamoShareRepository
    from chalicelib.adapters.dynamo.single_use import DynamoSingleUse
    from chalicelib.adapters.dynamo.studies import DynamoStudyIndex, DynamoUploadRepository
    from chalicelib.adapters.dynamo.visits import DynamoMessageRepository, DynamoVisitRepository
    from chalicelib.adapters.faults import guarded
    from chalicelib.adapters.s3 import S3ObjectStore
    from chalicelib.adapters.secrets import SecretsManagerKeys
    from chalicelib.adapters.ses import SesMailer
    from chalicelib.adapters.sns import SnsSmsSender
    from chalicelib.adapters.sqs import SqsJobQueue
    from chalicelib.adapters.thumbnailer import DicomThumbnailer

    cfg = settings()
    return Deps(
        clock=SystemClock(),
        clinics=guarded(DynamoClinicRepository()),
        api_keys=guarded(DynamoApiKeyRepository()),
        buckets=Buckets(ingest=cfg.ingest_bucket, share=cfg.share_bucket, chat=cfg.chat_bucket),
        objects=guarded(S3ObjectStore(client("s3"))),
        studies=guarded(DynamoStudyIndex()),
        uploads=guarded(DynamoUploadRepository()),
        thumbnails=DicomThumbnailer(),
        shares=guarded(DynamoShareRepository()),
        jobs=guarded(SqsJobQueue(client("sqs"), cfg.queue_name)),
        mailer=guarded(SesMailer(client("ses"), cfg.sender_email, cfg.ses_configuration_set)),
        sms=guarded(SnsSmsSender(client("sns"))),
        visits=guarded(DynamoVisitRepository()),
        messages=guarded(DynamoMessageRepository()),
        visit_policy=VisitPolicy(cfg.public_base_url, cfg.chat_retention_days),
        site=Site(public_base_url=cfg.public_base_url),
        idempotency=persistence_store(client("dynamodb")),
        access_log=guarded(DynamoAccessLog()),
        sending=guarded(DynamoSendingCounter()),
        message_index=guarded(DynamoMessageIndex()),
        single_use=guarded(DynamoSingleUse()),
        keys=guarded(SecretsManagerKeys(lambda: client("secretsmanager"), cfg.signing_secret)),
        staff=guarded(CognitoStaffDirectory(lambda: client("cognito-idp"), cfg)),
    )


def deps() -> Deps:
    """The dependencies of this process."""
    global _deps
    if _deps is None:
        with _lock:
            if _deps is None:
                _deps = build()
    return _deps


@contextmanager
def override(replacement: Deps) -> Iterator[Deps]:
    """Use ``replacement`` as the process's dependencies inside the block (tests)."""
    global _deps
    previous, _deps = _deps, replacement
    try:
        yield replacement
    finally:
        _deps = previous
