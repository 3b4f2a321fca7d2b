"""The ingest worker: S3 (ingest bucket) → SQS → index the new object and render its thumbnail.

A file we cannot read is quarantined and recorded, not raised: only a failure of our own (S3 or
DynamoDB unreachable) fails the record, which SQS then retries and finally dead-letters. Records fail
one by one (ReportBatchItemFailures), so one bad message never holds back the batch.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from chalice.app import Blueprint, SQSEvent

from chalicelib.observability import count, logger, observed
from chalicelib.services.ingest import ingest_object
from chalicelib.settings import settings
from chalicelib.wiring import deps

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings().queue_name("ingest"), batch_size=10)
@observed
def ingest_worker(event: SQSEvent) -> dict[str, Any]:
    """Handle a batch of S3 event notifications."""
    # Loaded here: the API Lambda imports this module too (to register the handler) but never runs it.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(process_partial_response(event=event.to_dict(), record_handler=_handle, processor=processor))


def _handle(record: SQSRecord) -> None:
    for key in object_keys(json.loads(record.body)):
        file = ingest_object(key, deps())
        if file is None:
            logger.warning("ingest: key outside the upload layout ignored")
            continue
        count(f"Ingest{file.status.value.capitalize()}")
        logger.info("ingest: file indexed", extra={"file_index": file.index, "status": file.status.value})


def object_keys(notification: dict[str, Any]) -> list[str]:
    """The object keys of an S3 event notification (none for S3's test event)."""
    return [
        unquote_plus(r["s3"]["object"]["key"])
        for r in notification.get("Records", [])
        if str(r.get("eventName", "")).startswith("ObjectCreated")
    ]
