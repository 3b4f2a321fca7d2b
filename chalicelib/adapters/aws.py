"""boto3 clients, made the same way everywhere: the configured region and endpoint, sane retries."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from chalicelib.settings import settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, signature_version="s3v4")


def client(service: str) -> Any:
    """A boto3 client for ``service`` on this deployment's region (and endpoint, locally)."""
    cfg = settings()
    make: Any = boto3.client  # the service name is a variable here, so the stubs' overloads cannot apply
    return make(service, region_name=cfg.region, endpoint_url=cfg.endpoint_url, config=_CONFIG)
