"""Create the service's AWS resources on an endpoint, from the one resource list.

Used by ``make run`` (moto in server mode) and by the tests (in-process moto): both build exactly what
``chalicelib.adapters.resources`` lists, the same list the infrastructure test holds the CloudFormation
template to, and the signing key's secret, which the code reads as it does in AWS.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import urlparse

from chalicelib.adapters import resources
from chalicelib.adapters.aws import client
from chalicelib.domain.keys import new_key_material
from chalicelib.settings import Settings


def create_all(cfg: Settings) -> None:
    """Create every table, queue, bucket (with its notifications), SES identity and configuration set, and the
    signing key."""
    for model in resources.TABLES:
        if not model.exists():
            model.create_table(wait=True)
    sqs = client("sqs")
    queue_arns = {queue.short_name: _create_queue(sqs, queue, cfg) for queue in resources.QUEUES}
    s3 = client("s3")
    for bucket in resources.BUCKETS:
        _create_bucket(s3, bucket, cfg, queue_arns)
    ses = client("ses")
    for identity in resources.ses_identities(cfg):
        ses.verify_email_identity(EmailAddress=identity)
    # SES publishes no events on moto: the outbox's buttons inject them (local/outbox.py).
    if cfg.ses_configuration_set not in [c["Name"] for c in ses.list_configuration_sets()["ConfigurationSets"]]:
        ses.create_configuration_set(ConfigurationSet={"Name": cfg.ses_configuration_set})
    _create_signing_key(client("secretsmanager"), cfg)
    create_staff_pool(client("cognito-idp"), cfg)


def create_staff_pool(cognito: Any, cfg: Settings) -> tuple[str, str]:
    """The staff pool and the console's client, as infra/ declares them (kept if the pool exists); their ids."""
    pool = resources.STAFF_POOL
    existing = [p["Id"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == pool.name(cfg)]
    if existing:
        pool_id = existing[0]
        return pool_id, cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"][0][
            "ClientId"
        ]
    pool_id = cognito.create_user_pool(
        PoolName=pool.name(cfg),
        Policies=pool.policies(),
        Schema=pool.schema(),
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        MfaConfiguration="OFF",
    )["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration=pool.mfa
    )
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=pool.client_name(cfg),
        GenerateSecret=False,
        ExplicitAuthFlows=list(pool.auth_flows),
        PreventUserExistenceErrors="ENABLED",
        EnableTokenRevocation=True,
        ReadAttributes=["email", *(f"custom:{a}" for a in pool.custom_attributes)],
        WriteAttributes=["email"],
        IdTokenValidity=pool.id_token_minutes,
        AccessTokenValidity=pool.id_token_minutes,
        RefreshTokenValidity=pool.refresh_token_hours,
        TokenValidityUnits={"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "hours"},
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def _create_signing_key(secretsmanager: Any, cfg: Settings) -> None:
    """The signing key's secret with a fresh random key, as infra/ generates it (kept if it exists)."""
    with contextlib.suppress(secretsmanager.exceptions.ResourceExistsException):
        secretsmanager.create_secret(Name=cfg.signing_secret, SecretString=new_key_material().decode())


def _create_queue(sqs: Any, queue: resources.Queue, cfg: Settings) -> str:
    dlq_url = sqs.create_queue(QueueName=queue.dlq_name(cfg))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=queue.name(cfg),
        Attributes={
            "VisibilityTimeout": str(queue.visibility_timeout_s),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
            ),
        },
    )["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def _create_bucket(s3: Any, bucket: resources.Bucket, cfg: Settings, queue_arns: dict[str, str]) -> None:
    name = bucket.name(cfg)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": cfg.region})
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    if bucket.browser_uploads:
        # The pages' own origin, as infra/resources.yaml allows PublicBaseUrl's (moto applies the rule).
        origin = "{0.scheme}://{0.netloc}".format(urlparse(cfg.public_base_url))
        s3.put_bucket_cors(
            Bucket=name,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedMethods": ["POST", "GET"],
                        "AllowedOrigins": [origin],
                        "AllowedHeaders": ["*"],
                        "MaxAgeSeconds": 600,
                    }
                ]
            },
        )
    if bucket.notify is not None:
        s3.put_bucket_notification_configuration(
            Bucket=name,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": queue_arns[bucket.notify.short_name],
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": bucket.notify_filter}},
                    }
                ]
            },
        )
