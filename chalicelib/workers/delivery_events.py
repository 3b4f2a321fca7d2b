"""The delivery-events workers: what SES and SNS learn after a message left, onto each contact's status.

* ``delivery_events_worker`` takes SES event records from the ``delivery-events`` queue (SES →
  configuration set → SNS topic → SQS, raw). A record that fails is retried alone and finally
  dead-lettered; one that is not an SES record at all is logged and dropped (retrying cannot mend it).
* ``sms_receipts`` is the target of the CloudWatch Logs subscription on SNS's SMS delivery-status logs.

See ``services/delivery_events.py`` for what an event does.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.domain.deliveries import DeliveryEvent
from chalicelib.domain.errors import MalformedRequest
from chalicelib.observability import count, logger, observed
from chalicelib.services import delivery_events
from chalicelib.settings import settings
from chalicelib.wiring import deps
from chalicelib.workers.batch import each_record

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings().queue_name("delivery-events"), batch_size=10)
@observed
def delivery_events_worker(event: SQSEvent) -> dict[str, Any]:
    """Apply each SES event record to the delivery of its message."""

    def handle(body: str) -> None:
        try:
            parsed = delivery_events.from_ses(body)
        except MalformedRequest:
            logger.warning("delivery event: not an SES event record, dropped")
            return
        if parsed is not None:
            _apply(parsed, "Email")

    return each_record(event, handle)


@bp.lambda_function(name="sms_receipts")
@observed
def sms_receipts(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Apply the SMS delivery receipts of one CloudWatch Logs subscription batch."""
    try:
        receipts = delivery_events.from_sms_logs(event)
    except MalformedRequest:
        logger.warning("sms receipts: not a CloudWatch Logs subscription event, dropped")
        return {"applied": 0}
    return {"applied": sum(1 for receipt in receipts if _apply(receipt, "Sms"))}


def _apply(event: DeliveryEvent, channel: str) -> bool:
    delivery = delivery_events.apply(event, deps())
    if delivery is None:
        logger.info("delivery event for a message not followed", extra={"message_id": event.message_id})
        return False
    count(f"{channel}{event.status.value.title().replace('_', '')}")
    logger.info(
        "delivery event applied",
        extra={"message_id": event.message_id, "event": event.status.value, "status": delivery.status.value},
    )
    return True
