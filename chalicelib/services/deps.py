"""The dependencies a service may use, bundled so routes can pass them in one argument."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.services.ports import (
    AccessLog,
    ApiKeyRepository,
    ClinicRepository,
    Clock,
    JobQueue,
    Mailer,
    MessageIndex,
    MessageRepository,
    ObjectStore,
    SendingCounter,
    ShareRepository,
    SigningKeys,
    SingleUse,
    SmsSender,
    StaffDirectory,
    StudyIndex,
    Thumbnailer,
    UploadRepository,
    VisitRepository,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer


@dataclass(frozen=True)
class Buckets:
    """The S3 buckets of this deployment."""

    ingest: str
    share: str
    chat: str


@dataclass(frozen=True)
class Site:
    """Where this deployment's pages live."""

    public_base_url: str


@dataclass(frozen=True)
class VisitPolicy:
    """How visits behave in this deployment."""

    public_base_url: str
    """Where patients' links and clinicians' chat links point (``https://…``)."""
    retention_days: int
    """How long a closed visit's messages and files are kept."""


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
    visits: VisitRepository
    messages: MessageRepository
    visit_policy: VisitPolicy
    site: Site
    idempotency: BasePersistenceLayer
    access_log: AccessLog
    sending: SendingCounter
    """E-mails and texts sent per clinic and day (the daily quota)."""
    message_index: MessageIndex
    """Provider message ids → deliveries, for SES and SNS delivery events."""
    single_use: SingleUse
    keys: SigningKeys
    """Signs and verifies links, sessions and fingerprints; read on first use (only signing functions may)."""
    staff: StaffDirectory
    """Clinic staff's accounts and sign-in (the console)."""
