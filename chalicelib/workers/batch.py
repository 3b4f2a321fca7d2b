"""SQS batches handled record by record, reporting failures one by one (ReportBatchItemFailures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import DynamoDBEvent, SQSEvent


def each_record(event: SQSEvent, handle: Callable[[str], None]) -> dict[str, Any]:
    """Call ``handle`` with each record's body; a record whose handling raises is retried alone."""
    # Loaded here: the API Lambda imports the worker modules (to register them) but never runs them.
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(
        process_partial_response(
            event=event.to_dict(), record_handler=lambda record: handle(record.body), processor=processor
        )
    )


def each_removed_row(event: DynamoDBEvent, handle: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Call ``handle`` with the old image of each row a DynamoDB stream reports removed (TTL or delete);
    other records are skipped, and a record whose handling raises is retried alone."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    def record_handler(record: Any) -> None:
        if record.event_name is None or record.event_name.name != "REMOVE" or record.dynamodb is None:
            return
        handle(dict(record.dynamodb.old_image))

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return dict(process_partial_response(event=event.to_dict(), record_handler=record_handler, processor=processor))
