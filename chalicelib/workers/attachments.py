"""The attachment worker: S3 (chat bucket) → SQS → check each uploaded chat file.

A file we refuse is recorded and deleted, not raised: only a failure of our own (S3 or DynamoDB
unreachable) fails the record, which SQS then retries and finally dead-letters. It needs PyAV and
pillow-heif, so it runs from the media container image (``infra/media/``), not from Chalice's zip.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.observability import count, logger, observed
from chalicelib.services.attachments import check_upload
from chalicelib.settings import settings
from chalicelib.wiring import deps
from chalicelib.workers.batch import each_record
from chalicelib.workers.ingest import created_objects

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings().queue_name("attachments"), batch_size=5)
@observed
def attachment_worker(event: SQSEvent) -> dict[str, Any]:
    """Handle a batch of S3 event notifications of the chat bucket."""
    return each_record(event, _handle)


def _handle(body: str) -> None:
    for key, arrived_at in created_objects(json.loads(body), deps().clock.now()):
        message = check_upload(key, arrived_at, deps())
        if message is None or message.attachment is None:
            logger.info("attachment: object outside the upload layout or without a message ignored")
            continue
        attachment = message.attachment
        count(f"Attachment{attachment.status.value.capitalize()}")
        logger.info(
            "attachment checked",
            extra={
                "visit_id": message.visit_id,
                "attachment_id": attachment.attachment_id,
                "status": attachment.status.value,
                "reason": attachment.reason.value if attachment.reason else None,
                "family": attachment.family,
            },
        )
