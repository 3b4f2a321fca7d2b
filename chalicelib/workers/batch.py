"""SQS batches handled record by record, reporting failures one by one (ReportBatchItemFailures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import SQSEvent


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
