"""The one list of AWS resources the service needs, besides its Lambdas.

The local stack creates exactly these (``local/stack.py``); ``infra/resources.yaml`` declares them
for CloudFormation, and a test checks that the two agree, because no local emulator applies the
template for us. Tables are described by their pynamodb models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.dynamo.accounts import ApiKeyModel, ClinicModel, SendingCountModel
from chalicelib.adapters.dynamo.base import BaseModel
from chalicelib.adapters.dynamo.deliveries import MessageOwnerModel
from chalicelib.adapters.dynamo.idempotency import IdempotencyModel
from chalicelib.adapters.dynamo.shares import ShareEventModel, ShareModel
from chalicelib.adapters.dynamo.single_use import SingleUseModel
from chalicelib.adapters.dynamo.studies import InstanceModel, StudyModel, UploadFileModel
from chalicelib.adapters.dynamo.visits import MessageModel, VisitModel
from chalicelib.settings import Settings

#: Every table, as its pynamodb model.
TABLES: tuple[type[BaseModel], ...] = (
    ClinicModel,
    ApiKeyModel,
    SendingCountModel,
    StudyModel,
    InstanceModel,
    UploadFileModel,
    ShareModel,
    ShareEventModel,
    MessageOwnerModel,
    VisitModel,
    MessageModel,
    IdempotencyModel,
    SingleUseModel,
)


@dataclass(frozen=True)
class Queue:
    """An SQS queue with its dead-letter queue."""

    short_name: str
    logical_id: str
    visibility_timeout_s: int
    max_receive_count: int = 5

    def name(self, cfg: Settings) -> str:
        """The queue's name in this deployment."""
        return cfg.queue_name(self.short_name)

    def dlq_name(self, cfg: Settings) -> str:
        """Its dead-letter queue's name."""
        return cfg.queue_name(f"{self.short_name}-dlq")


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket; ``notify`` names the queue told of each new object whose key matches the filter."""

    setting: str
    logical_id: str
    expire_after_days: int
    notify: Queue | None = None
    notify_prefix: str = ""
    notify_suffix: str = ""
    """Only what clients upload wakes the worker, never what the service writes itself (thumbnails,
    checked files, quarantine): those would cost an invocation each, only to be ignored."""
    browser_uploads: bool = False
    """Browsers POST to it from our pages (pre-signed), so it answers CORS for our origin."""
    expire_sooner: tuple[tuple[str, int], ...] = ()
    """(key prefix, days): objects under the prefix expire after that many days, before the backstop."""

    def name(self, cfg: Settings) -> str:
        """The bucket's name in this deployment."""
        name: str = getattr(cfg, self.setting)
        return name

    @property
    def notify_filter(self) -> list[dict[str, str]]:
        """The notification's S3 key filter rules, as S3 and CloudFormation spell them."""
        rules = [("prefix", self.notify_prefix), ("suffix", self.notify_suffix)]
        return [{"Name": name, "Value": value} for name, value in rules if value]


INGEST_QUEUE = Queue("ingest", "IngestQueue", visibility_timeout_s=900)
ATTACHMENT_QUEUE = Queue("attachments", "AttachmentQueue", visibility_timeout_s=300)
SHARE_QUEUE = Queue("share", "ShareQueue", visibility_timeout_s=1800)
DELIVERY_QUEUE = Queue("delivery", "DeliveryQueue", visibility_timeout_s=120, max_receive_count=8)
#: SES's event records (through its SNS topic), for each contact's delivery status.
DELIVERY_EVENTS_QUEUE = Queue("delivery-events", "DeliveryEventsQueue", visibility_timeout_s=180)

QUEUES: tuple[Queue, ...] = (INGEST_QUEUE, ATTACHMENT_QUEUE, SHARE_QUEUE, DELIVERY_QUEUE, DELIVERY_EVENTS_QUEUE)

# Expiry is enforced by our own code on every read and by the TTL cleanup worker; these lifecycle
# rules are only the backstop, so they sit just past the longest life an object may have.
BUCKETS: tuple[Bucket, ...] = (
    Bucket(
        "ingest_bucket",
        "IngestBucket",
        expire_after_days=400,
        notify=INGEST_QUEUE,
        notify_prefix="uploads/",
        expire_sooner=(("retrieve/", 1),),  # WADO-RS answers too large for Lambda, made again on demand
        browser_uploads=True,  # the console's Upload page
    ),
    Bucket("share_bucket", "ShareBucket", expire_after_days=366),
    Bucket(
        "chat_bucket",
        "ChatBucket",
        expire_after_days=120,
        notify=ATTACHMENT_QUEUE,
        notify_prefix="attachments/",
        notify_suffix="/upload",
        browser_uploads=True,
    ),
)


def ses_identities(cfg: Settings) -> tuple[str, ...]:
    """The SES identities mail is sent from."""
    return (cfg.sender_email,)


@dataclass(frozen=True)
class StaffPool:
    """The staff's Cognito user pool and the console's app client, as both the local stack and infra/ make them."""

    short_name: str = "staff"
    logical_id: str = "StaffUserPool"
    client_logical_id: str = "StaffConsoleClient"
    #: custom attributes: each member's clinic and role (immutable by the member: the client may not write them)
    custom_attributes: tuple[str, ...] = ("clinic_id", "role")
    password_min_length: int = 12
    temporary_password_days: int = 3
    #: TOTP is each member's choice; SMS MFA is not offered (SIM swaps), so "OPTIONAL" with software tokens only
    mfa: str = "OPTIONAL"
    #: the server signs members in with their password (over TLS, never stored) and refreshes their tokens
    auth_flows: tuple[str, ...] = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    id_token_minutes: int = 60
    refresh_token_hours: int = 12

    def name(self, cfg: Settings) -> str:
        """The pool's name in this deployment."""
        return f"{cfg.resource_prefix}-{self.short_name}"

    def client_name(self, cfg: Settings) -> str:
        """The console client's name in this deployment."""
        return f"{cfg.resource_prefix}-console"

    def policies(self) -> dict[str, Any]:
        """The pool's ``Policies`` (CreateUserPool and CloudFormation spell them alike)."""
        return {
            "PasswordPolicy": {
                "MinimumLength": self.password_min_length,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": False,
                "TemporaryPasswordValidityDays": self.temporary_password_days,
            }
        }

    def schema(self) -> list[dict[str, Any]]:
        """The custom attributes, as CreateUserPool's and CloudFormation's ``Schema``."""
        return [
            {
                "Name": name,
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
            }
            for name in self.custom_attributes
        ]


STAFF_POOL = StaffPool()
