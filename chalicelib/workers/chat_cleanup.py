"""The chat cleanup worker: DynamoDB stream of visit messages → delete the files of expired rows.

When a message row goes (DynamoDB TTL at the end of the visit's retention, or any delete), its old
image names the attachment, and the upload, the served file and the preview are deleted from the chat
bucket. Deleting a missing object is not an error, so a retried record is harmless. The bucket's
lifecycle rule (``resources.BUCKETS``) is the backstop should a record ever be lost.

The stream's ARN is only known once CloudFormation has made the table: ``infra/resources.yaml`` sets
it on the event source at package time; the value here names the table for the local stack's pump.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, DynamoDBEvent

from chalicelib.observability import count, logger, observed
from chalicelib.services.attachments import delete_files
from chalicelib.settings import settings
from chalicelib.wiring import deps
from chalicelib.workers.batch import each_removed_row

bp = Blueprint(__name__)


@bp.on_dynamodb_record(
    stream_arn=settings().stream_arn("visit-messages"), batch_size=100, starting_position="TRIM_HORIZON"
)
@observed
def chat_cleanup_worker(event: DynamoDBEvent) -> dict[str, Any]:
    """Handle a batch of stream records; each failing record is retried on its own."""
    return each_removed_row(event, _handle)


def _handle(old: dict[str, Any]) -> None:
    attachment_id = old.get("attachment_id")
    if not attachment_id:
        return
    delete_files(str(old["clinic_id"]), str(old["visit_id"]), str(attachment_id), deps())
    count("ChatFilesDeleted")
    logger.info("chat files deleted", extra={"visit_id": old["visit_id"], "attachment_id": attachment_id})
