"""The share cleanup worker: DynamoDB stream of shares → delete the files of rows TTL removed.

A share row outlives its link by the history period (``adapters/dynamo/shares.HISTORY_AFTER_EXPIRY``);
when DynamoDB's TTL removes it, its old image lists the files, and they are deleted from the share
bucket. Deleting a missing object is not an error, so a retried record is harmless; the bucket's
lifecycle rule is the backstop. Like the chat's, the stream's ARN is set by ``infra/resources.yaml``.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, DynamoDBEvent

from chalicelib.observability import count, logger, observed
from chalicelib.services.shares import delete_files
from chalicelib.settings import settings
from chalicelib.wiring import deps
from chalicelib.workers.batch import each_removed_row

bp = Blueprint(__name__)


@bp.on_dynamodb_record(stream_arn=settings().stream_arn("shares"), batch_size=100, starting_position="TRIM_HORIZON")
@observed
def share_cleanup_worker(event: DynamoDBEvent) -> dict[str, Any]:
    """Handle a batch of stream records; each failing record is retried on its own."""
    return each_removed_row(event, _handle)


def _handle(old: dict[str, Any]) -> None:
    keys = [str(f["key"]) for f in json.loads(str(old.get("body") or "{}")).get("files", [])]
    delete_files(keys, deps())
    count("ShareFilesDeleted", len(keys))
    logger.info("share files deleted", extra={"share_id": old.get("share_id"), "files": len(keys)})
