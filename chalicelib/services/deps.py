"""The dependencies a service may use, bundled so routes can pass them in one argument."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.services.ports import (
    ApiKeyRepository,
    ClinicRepository,
    Clock,
    JobQueue,
    Mailer,
    ObjectStore,
    ShareRepository,
    SmsSender,
    StudyIndex,
    Thumbnailer,
    UploadRepository,
)


@dataclass(frozen=True)
class Buckets:
    """The S3 buckets of this deployment."""

    ingest: str
    share: str
    chat: str


@dataclass(frozen=True)
class Deps:
    """Every port a service may need; built once by ``wiring`` (or by a test, with fakes)."""

    clock: Clock
    clinics: ClinicRepository
    api_keys: ApiKeyRepository
    buckets: Buckets
    objects: ObjectStore
    studies: StudyIndex
    uploads: UploadRepository
    thumbnails: Thumbnailer
    shares: ShareRepository
    jobs: JobQueue
    mailer: Mailer
    sms: SmsSender
