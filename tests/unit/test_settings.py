from __future__ import annotations

import pytest

from chalicelib.settings import SettingsError, load

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:patient-share-prod-secret-key-AbCdEf"


def test_defaults_are_the_local_stack() -> None:
    cfg = load({})
    assert cfg.stage == "local"
    assert cfg.local_mode
    assert cfg.table_name("clinics") == "patient-share-local-clinics"
    assert cfg.queue_name("share") == "patient-share-local-share"
    assert cfg.ingest_bucket == "patient-share-local-ingest"
    assert cfg.public_base_url == "http://127.0.0.1:8000"


def test_a_deployed_stage_reads_its_names() -> None:
    cfg = load(
        {
            "STAGE": "prod",
            "RESOURCE_PREFIX": "patient-share-prod",
            "PUBLIC_BASE_URL": "https://share.example.org/",
            "SHARE_BUCKET": "patient-share-prod-share-123",
            "AWS_REGION": "eu-west-1",
            "SIGNING_SECRET_ARN": SECRET_ARN,
        }
    )
    assert not cfg.local_mode
    assert cfg.public_base_url == "https://share.example.org"
    assert cfg.share_bucket == "patient-share-prod-share-123"
    assert cfg.region == "eu-west-1"
    assert cfg.signing_secret == SECRET_ARN


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"STAGE": "staging"}, "STAGE"),
        ({"RESOURCE_PREFIX": "Bad Prefix"}, "RESOURCE_PREFIX"),
        (
            {"STAGE": "prod", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "PUBLIC_BASE_URL": "https://x.org"},
            "AWS_ENDPOINT_URL",
        ),
        ({"STAGE": "prod", "PUBLIC_BASE_URL": "http://share.example.org"}, "PUBLIC_BASE_URL"),
        # The key itself never comes from the environment, under its old name or as the secret's "ARN".
        ({"STAGE": "prod", "PUBLIC_BASE_URL": "https://x.org", "SECRET_KEY": "k" * 64}, "SECRET_KEY"),
        ({"STAGE": "prod", "PUBLIC_BASE_URL": "https://x.org", "SIGNING_SECRET_ARN": "k" * 64}, "SIGNING_SECRET_ARN"),
    ],
)
def test_bad_settings_fail_at_once_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        load(env)


def test_without_its_arn_the_signing_key_secret_is_found_by_the_name_infra_gives_it() -> None:
    assert load({}).signing_secret == "patient-share-local-secret-key"
    assert load({"STAGE": "prod", "PUBLIC_BASE_URL": "https://x.org"}).signing_secret == "patient-share-prod-secret-key"


def test_chat_retention_is_30_days_unless_set_and_bounded() -> None:
    assert load({}).chat_retention_days == 30
    assert load({"CHAT_RETENTION_DAYS": "7"}).chat_retention_days == 7
    for bad in ("0", "61", "thirty"):
        with pytest.raises(SettingsError, match="CHAT_RETENTION_DAYS"):
            load({"CHAT_RETENTION_DAYS": bad})
