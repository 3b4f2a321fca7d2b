"""The ingest worker: S3 (ingest bucket) → SQS → index the new object and render its thumbnail.

A file we cannot read is quarantined and recorded, not raised: only a failure of our own (S3 or
DynamoDB unreachable) fails the record, which SQS then retries and finally dead-letters. Records fail
one by one (ReportBatchItemFailures), so one bad message never holds back the batch.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from chalice.app import Blueprint, SQSEvent

from chalicelib.observability import count, logger, observed
from chalicelib.services.ingest import ingest_object
from chalicelib.settings import settings
from chalicelib.wiring import deps
from chalicelib.workers.batch import each_record

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings().queue_name("ingest"), batch_size=10)
@observed
def ingest_worker(event: SQSEvent) -> dict[str, Any]:
    """Handle a batch of S3 event notifications."""
    return each_record(event, _handle)


def _handle(body: str) -> None:
    for key in object_keys(json.loads(body)):
        file = ingest_object(key, deps())
        if file is None:
            logger.warning("ingest: key outside the upload layout ignored")
            continue
        count(f"Ingest{file.status.value.capitalize()}")
        logger.info("ingest: file indexed", extra={"file_index": file.index, "status": file.status.value})


def object_keys(notification: dict[str, Any]) -> list[str]:
    """The object keys of an S3 event notification (none for S3's test event)."""
    return [unquote_plus(r["s3"]["object"]["key"]) for r in _created(notification)]


def created_objects(notification: dict[str, Any], now: datetime) -> list[tuple[str, datetime]]:
    """Each new object of an S3 event notification: its key, and when S3 had stored it.

    That time is the record's ``eventTime`` (S3 sets it when it has finished storing the object); a
    record without a readable one gets ``now``, which, read after the event, is never earlier.
    """
    return [
        (unquote_plus(r["s3"]["object"]["key"]), _event_time(r.get("eventTime"), now)) for r in _created(notification)
    ]


def _created(notification: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in notification.get("Records", []) if str(r.get("eventName", "")).startswith("ObjectCreated")]


def _event_time(raw: object, now: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(str(raw))
    except ValueError:
        return now
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
