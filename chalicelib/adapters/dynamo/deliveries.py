"""Deliveries in DynamoDB: how a record's deliveries are stored in its row, and the message-id index.

Shares and visits keep their deliveries as JSON in their own row (read back whole, never queried by
field), in one format. Rows written before deliveries had one model read as today's: a share's
deliveries had no position (their order is it), a visit's first status was ``pending`` (now ``queued``),
and an opted-out number was a share's ``failed`` with reason ``opted_out``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamo.base import BaseModel, TableMeta, deployed_name
from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.deliveries import Bounce, Delivery, DeliveryStatus, MessageOwner, OwnerKind

_OLD_STATUSES = {"pending": DeliveryStatus.QUEUED}


def deliveries_json(deliveries: tuple[Delivery, ...]) -> list[dict[str, Any]]:
    """Deliveries as their rows' JSON holds them."""
    return [
        {
            "position": d.position,
            "kind": d.contact.kind.value,
            "address": d.contact.address,
            "status": d.status.value,
            "reason": d.reason,
            "attempts": d.attempts,
            "sent_at": iso(d.sent_at),
            "message_id": d.message_id,
            "bounce": d.bounce.value if d.bounce else None,
            "updated_at": iso(d.updated_at),
        }
        for d in deliveries
    ]


def deliveries_from(rows: list[dict[str, Any]]) -> tuple[Delivery, ...]:
    """Deliveries from their rows' JSON (today's format or an earlier one)."""
    deliveries = []
    for position, d in enumerate(rows, start=1):
        contact = d.get("contact") or {"kind": d["kind"], "address": d["address"]}  # a share's, before
        status = _OLD_STATUSES.get(d["status"]) or DeliveryStatus(d["status"])
        reason = d.get("reason")
        if status is DeliveryStatus.FAILED and reason == "opted_out":
            status, reason = DeliveryStatus.OPTED_OUT, None
        deliveries.append(
            Delivery(
                position=int(d.get("position", position)),
                contact=Contact(ContactKind(contact["kind"]), contact["address"]),
                status=status,
                reason=reason,
                attempts=int(d.get("attempts", 0)),
                sent_at=time_of(d.get("sent_at")),
                message_id=d.get("message_id"),
                bounce=Bounce(d["bounce"]) if d.get("bounce") else None,
                updated_at=time_of(d.get("updated_at")),
            )
        )
    return tuple(deliveries)


class MessageOwnerModel(BaseModel):
    """One row a message the providers accepted: whose delivery it is, while its events can matter."""

    class Meta(TableMeta):
        table_name = deployed_name("delivery-messages")

    message_id = UnicodeAttribute(hash_key=True)
    owner_kind = UnicodeAttribute()
    record_id = UnicodeAttribute()
    position = NumberAttribute()
    remove_at = TTLAttribute()


class DynamoMessageIndex:
    """MessageIndex on DynamoDB."""

    def remember(self, message_id: str, owner: MessageOwner, keep_until: datetime) -> None:
        MessageOwnerModel(
            message_id,
            owner_kind=owner.kind.value,
            record_id=owner.record_id,
            position=owner.position,
            remove_at=keep_until,
        ).save()

    def owner_of(self, message_id: str) -> MessageOwner | None:
        try:
            row = MessageOwnerModel.get(message_id, consistent_read=True)
        except DoesNotExist:
            return None
        return MessageOwner(OwnerKind(row.owner_kind), row.record_id, int(row.position))


def iso(value: datetime | None) -> str | None:
    """A time as the rows' JSON holds it (ISO 8601), None as None."""
    return value.isoformat() if value is not None else None


def time_of(value: str | None) -> datetime | None:
    """A time from the rows' JSON, None as None."""
    return datetime.fromisoformat(value) if value is not None else None
