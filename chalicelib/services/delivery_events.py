"""What SES and SNS report after a message was accepted, applied to the delivery it belongs to.

* **E-mail.** Every message goes out through the deployment's SES configuration set, whose event
  destination publishes Send, Delivery, Bounce, Complaint, Reject, DeliveryDelay and Rendering Failure
  records to an SNS topic; the topic delivers them raw to the ``delivery-events`` queue (and its DLQ).
* **SMS.** SNS's delivery-status logging writes one CloudWatch Logs line per text (success and failure
  log groups); a subscription filter hands them, gzipped, to the SMS receipts function.

Both arrive here as ``DeliveryEvent`` values. The provider's message id names the delivery through the
message index the notifier wrote; a message we do not follow (a one-time code, or one older than its
record) is ignored. Events are applied with the same versioned write as every other change, and a
delivery never moves backwards (``Delivery.with_event``), so late, repeated and reordered events are
harmless. No address ever reaches a log: only message ids and record ids.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.deliveries import Bounce, Delivery, DeliveryEvent, DeliveryStatus, OwnerKind
from chalicelib.domain.errors import MalformedRequest, NotFound
from chalicelib.services.deps import Deps
from chalicelib.services.versioned import update

_SES_STATUS = {
    "Send": DeliveryStatus.SENT,
    "Delivery": DeliveryStatus.DELIVERED,
    "DeliveryDelay": DeliveryStatus.DELAYED,
    "Bounce": DeliveryStatus.BOUNCED,
    "Complaint": DeliveryStatus.COMPLAINED,
    "Reject": DeliveryStatus.FAILED,
    "Rendering Failure": DeliveryStatus.FAILED,
}
_SES_DETAIL = {
    "Delivery": "delivery",
    "DeliveryDelay": "deliveryDelay",
    "Bounce": "bounce",
    "Complaint": "complaint",
    "Reject": "reject",
    "Rendering Failure": "failure",
    "Send": "send",
}


def from_ses(body: str) -> DeliveryEvent | None:
    """An SES event record (as its SNS topic delivers it raw to SQS); None for a kind we do not follow.

    Raises MalformedRequest for what is not an SES event record at all.
    """
    try:
        record = json.loads(body)
        kind = record.get("eventType") or record.get("notificationType")
        mail = record["mail"]
        message_id = str(mail["messageId"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise MalformedRequest("Not an SES event record") from err
    status = _SES_STATUS.get(kind)
    if status is None:
        return None  # Open, Click, Subscription: not a delivery's fate
    detail = record.get(_SES_DETAIL[kind]) or {}
    at = _time(detail.get("timestamp") or mail.get("timestamp"))
    if kind == "Bounce":
        hard = detail.get("bounceType") == "Permanent"
        return DeliveryEvent(
            message_id, status, at, Bounce.HARD if hard else Bounce.SOFT, _code(detail.get("bounceSubType"))
        )
    if kind == "Complaint":
        return DeliveryEvent(message_id, status, at, reason=_code(detail.get("complaintFeedbackType")))
    if kind == "DeliveryDelay":
        return DeliveryEvent(message_id, status, at, reason=_code(detail.get("delayType")))
    if kind in ("Reject", "Rendering Failure"):
        return DeliveryEvent(message_id, status, at, reason=kind.replace(" ", ""))
    return DeliveryEvent(message_id, status, at)


def from_sms_logs(event: dict[str, Any]) -> list[DeliveryEvent]:
    """The SMS delivery receipts in a CloudWatch Logs subscription event (``awslogs.data``, gzipped JSON).

    Raises MalformedRequest for what is not such an event.
    """
    try:
        data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
        lines = [json.loads(e["message"]) for e in data.get("logEvents", [])]
    except (ValueError, KeyError, TypeError, OSError) as err:
        raise MalformedRequest("Not a CloudWatch Logs subscription event") from err
    events = []
    for line in lines:
        try:
            notification = line["notification"]
            message_id, success = str(notification["messageId"]), line["status"] == "SUCCESS"
        except (KeyError, TypeError):
            continue  # another kind of line in the group: not a receipt
        status = DeliveryStatus.DELIVERED if success else DeliveryStatus.FAILED
        reason = None if success else _code((line.get("delivery") or {}).get("providerResponse"))
        events.append(DeliveryEvent(message_id, status, _time(notification.get("timestamp")), reason=reason))
    return events


def apply(event: DeliveryEvent, deps: Deps) -> Delivery | None:
    """Apply one event to its delivery; the delivery as it then stands, None when nobody follows it."""
    owner = deps.message_index.owner_of(event.message_id)
    if owner is None:
        return None

    def changed(deliveries: tuple[Delivery, ...]) -> tuple[Delivery, ...]:
        return tuple(d.with_event(event) if d.position == owner.position else d for d in deliveries)

    try:
        if owner.kind is OwnerKind.SHARE:
            record = update(deps.shares, owner.record_id, lambda s: replace(s, deliveries=changed(s.deliveries)))
            deliveries = record.deliveries
        else:
            visit = update(deps.visits, owner.record_id, lambda v: replace(v, deliveries=changed(v.deliveries)))
            deliveries = visit.deliveries
    except NotFound:
        return None  # the record is gone (deleted, expired): nothing left to tell
    return next((d for d in deliveries if d.position == owner.position), None)


def _time(value: object) -> datetime:
    """SES's ISO 8601 (``…Z``) or SNS's ``2016-06-28 00:40:34.558`` (UTC both)."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as err:
        raise MalformedRequest("An event without a valid time") from err
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _code(value: object) -> str | None:
    """A provider's short code, kept to a safe length and alphabet (never an address or free text)."""
    if not isinstance(value, str) or not value:
        return None
    return "".join(c for c in value.title() if c.isalnum())[:40] or None
