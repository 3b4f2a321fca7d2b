"""What every pynamodb model of ours shares: table naming, the endpoint, billing."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.settings import settings


class TableMeta:
    """Base of each model's ``Meta``: region, endpoint and billing come from the settings."""

    region = settings().region
    host = settings().endpoint_url
    billing_mode = "PAY_PER_REQUEST"


def deployed_name(short_name: str) -> str:
    """The deployed name of one of our tables."""
    return settings().table_name(short_name)


class BaseModel(Model):
    """Base of our models; the resource list and the infrastructure test find tables through it."""
