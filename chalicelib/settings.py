"""The one place that reads ``os.environ``.

Settings are typed and validated once, at cold start, so a misconfigured Lambda fails at once with a
message naming the variable instead of deep inside a request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from chalicelib.domain.visits import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS

_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,40}$")
_SECRET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
_STAGES = ("local", "dev", "prod")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    """Configuration of one deployment (a stage) of the service."""

    stage: str
    region: str
    resource_prefix: str
    endpoint_url: str | None
    public_base_url: str
    sender_email: str
    ses_configuration_set: str
    """Every e-mail goes out through it: its event destination reports each message's fate."""
    ingest_bucket: str
    share_bucket: str
    chat_bucket: str
    service_name: str
    metrics_namespace: str
    signing_secret: str
    """The Secrets Manager secret (ARN or name) holding the signing key; the key itself is read at run time."""
    chat_retention_days: int = DEFAULT_RETENTION_DAYS
    """How long a closed visit's messages and files are kept (then DynamoDB TTL and the cleanup worker)."""
    user_pool_id: str = ""
    """The staff's Cognito user pool; infra/ sets it. Empty on the local stack, which finds its pool by name."""
    user_pool_client_id: str = ""
    """The console's app client of that pool (its tokens' audience); empty locally, as ``user_pool_id``."""

    def staff_pool_ids(self) -> tuple[str, str]:
        """The staff pool's id and its console client's id, as infra/ passes them; on the local stack, ("", "")
        (its pool is found by name). Only the console needs them, so only its first use checks them."""
        if not self.local_mode and not (self.user_pool_id and self.user_pool_client_id):
            raise SettingsError("USER_POOL_ID and USER_POOL_CLIENT_ID must be set outside the local stack")
        return self.user_pool_id, self.user_pool_client_id

    @property
    def local_mode(self) -> bool:
        """True on the embedded local stack (``make run`` and tests), never in AWS."""
        return self.stage == "local"

    def table_name(self, short_name: str) -> str:
        """The DynamoDB table name of one of our tables, e.g. ``clinics``."""
        return f"{self.resource_prefix}-{short_name}"

    def queue_name(self, short_name: str) -> str:
        """The SQS queue name of one of our queues, e.g. ``ingest``."""
        return f"{self.resource_prefix}-{short_name}"

    def stream_arn(self, short_name: str) -> str:
        """The DynamoDB stream of one of our tables, as a stream handler's decorator names it.

        CloudFormation knows a stream's ARN only once it has made the table, so ``infra/resources.yaml``
        sets the real one on the event source at package time; the local stack's pump reads the table
        name from this one.
        """
        return f"arn:aws:dynamodb:{self.region}:000000000000:table/{self.table_name(short_name)}/stream/set-by-infra"


def load(env: Mapping[str, str]) -> Settings:
    """Build settings from an environment mapping, validating every value."""
    stage = env.get("STAGE", "local")
    if stage not in _STAGES:
        raise SettingsError(f"STAGE must be one of {', '.join(_STAGES)}")
    prefix = env.get("RESOURCE_PREFIX", f"patient-share-{stage}")
    if not _PREFIX_RE.match(prefix):
        raise SettingsError("RESOURCE_PREFIX must be 3-41 lowercase letters, digits or dashes")
    endpoint_url = env.get("AWS_ENDPOINT_URL") or None
    if stage != "local" and endpoint_url is not None:
        raise SettingsError("AWS_ENDPOINT_URL is for the local stack only; unset it in AWS")
    public_base_url = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    if not public_base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise SettingsError("PUBLIC_BASE_URL must be an https:// URL (http only on localhost)")
    if "SECRET_KEY" in env:
        raise SettingsError("SECRET_KEY must not be set: the key is read from Secrets Manager (SIGNING_SECRET_ARN)")
    signing_secret = env.get("SIGNING_SECRET_ARN", "")
    if signing_secret and not _SECRET_ARN_RE.match(signing_secret):
        raise SettingsError("SIGNING_SECRET_ARN must be the ARN of a Secrets Manager secret, never a key")
    retention = env.get("CHAT_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))
    if not retention.isdigit() or not 1 <= int(retention) <= MAX_RETENTION_DAYS:
        raise SettingsError(f"CHAT_RETENTION_DAYS must be a whole number of days, 1 to {MAX_RETENTION_DAYS}")
    user_pool_id = env.get("USER_POOL_ID", "")
    user_pool_client_id = env.get("USER_POOL_CLIENT_ID", "")
    return Settings(
        stage=stage,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-north-1",
        resource_prefix=prefix,
        endpoint_url=endpoint_url,
        public_base_url=public_base_url,
        sender_email=env.get("SENDER_EMAIL", "no-reply@patient-share.local"),
        ses_configuration_set=env.get("SES_CONFIGURATION_SET", f"{prefix}-deliveries"),
        ingest_bucket=env.get("INGEST_BUCKET", f"{prefix}-ingest"),
        share_bucket=env.get("SHARE_BUCKET", f"{prefix}-share"),
        chat_bucket=env.get("CHAT_BUCKET", f"{prefix}-chat"),
        service_name=env.get("POWERTOOLS_SERVICE_NAME", "patient-share"),
        metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", "PatientShare"),
        # infra/ names the secret so; the functions that sign are given its ARN.
        signing_secret=signing_secret or f"{prefix}-secret-key",
        chat_retention_days=int(retention),
        user_pool_id=user_pool_id,
        user_pool_client_id=user_pool_client_id,
    )


@cache
def settings() -> Settings:
    """The settings of this process, read from the environment on first use."""
    return load(os.environ)
