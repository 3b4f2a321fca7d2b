"""Deliveries: one message (a share's link, a visit's link, a one-time code) to one contact, and its fate.

One model and one vocabulary for every message the service sends. A delivery is ``queued`` until the
notifier tries it; then ``sent`` (SES or SNS accepted it), ``failed`` (refused or unreachable, with the
provider's code) or ``opted_out`` (the number has opted out of texts; nothing was sent). What the
provider learns later arrives as a ``DeliveryEvent`` for the delivery's message id and moves it on:
``delivered``, ``delayed``, ``bounced`` (hard or soft), ``complained`` or ``failed``.

Events come late, twice and out of order (SES and SNS promise at-least-once, not order), so a delivery
never moves backwards: each status has a rank, and an event applies only when it ranks higher than
the status it would replace. ``delivered`` after ``bounced`` stays ``bounced``.

A hard bounce or a complaint says the address must not be written to again: a resend or a one-time
code skips that contact (``suppressed``), and the clinic sees why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.links import LINK_RETIRED

#: A message is tried this often per contact (the first send and the delivery queue's retries).
MAX_ATTEMPTS = 3
#: Provider answers that no retry can change, and a link that can no longer be re-made (its key retired).
FINAL_FAILURES = frozenset({"MessageRejected", "InvalidParameter", "InvalidParameterValue", "opted_out", LINK_RETIRED})


class DeliveryStatus(StrEnum):
    """What became of one message to one contact."""

    QUEUED = "queued"
    """Not tried yet (or queued again by a resend)."""
    SENT = "sent"
    """SES or SNS accepted it; whether it arrived is not known yet."""
    DELAYED = "delayed"
    """SES could not hand it over yet and keeps trying."""
    DELIVERED = "delivered"
    """The recipient's mail server or the phone network took it."""
    OPTED_OUT = "opted_out"
    """The number has opted out of text messages: nothing was sent."""
    FAILED = "failed"
    """Refused or unreachable (``reason``: the provider's code), or an SMS the network could not deliver."""
    BOUNCED = "bounced"
    """The recipient's server refused it; ``bounce`` says whether for good (hard) or for now (soft)."""
    COMPLAINED = "complained"
    """The recipient marked it as spam."""


class Bounce(StrEnum):
    """How final a bounce is (SES's Permanent and Transient)."""

    HARD = "hard"
    """The address does not exist or refuses us: never write to it again."""
    SOFT = "soft"
    """A full mailbox, a message too large…: a later message may arrive."""


#: Later knowledge ranks higher. Sending again starts a new message (``queued``), never an event.
_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELAYED: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.OPTED_OUT: 4,
    DeliveryStatus.FAILED: 4,
    DeliveryStatus.BOUNCED: 4,
    DeliveryStatus.COMPLAINED: 5,
}


class OwnerKind(StrEnum):
    """What kind of record a message's deliveries live on."""

    SHARE = "share"
    VISIT = "visit"


@dataclass(frozen=True)
class MessageOwner:
    """The delivery a provider's message id belongs to: a record's, by the contact's position."""

    kind: OwnerKind
    record_id: str
    position: int = 0

    def at(self, position: int) -> MessageOwner:
        """The same record's delivery to the contact at ``position``."""
        return replace(self, position=position)


@dataclass(frozen=True)
class DeliveryEvent:
    """What SES or SNS reported about one message, by its message id."""

    message_id: str
    status: DeliveryStatus
    at: datetime
    bounce: Bounce | None = None
    reason: str | None = None
    """The provider's short code (SES bounce sub-type, SMS provider response category): never an address."""


@dataclass(frozen=True)
class Delivery:
    """One contact of a share or a visit (``position`` as the person typed them, from 1) and its message."""

    position: int
    contact: Contact
    status: DeliveryStatus = DeliveryStatus.QUEUED
    reason: str | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    message_id: str | None = None
    """The provider's id of the latest message: events for older messages no longer apply."""
    bounce: Bounce | None = None
    updated_at: datetime | None = None
    """When the status last changed."""

    @property
    def suppressed(self) -> bool:
        """The address said never to write again (a hard bounce or a complaint)."""
        return self.status is DeliveryStatus.COMPLAINED or (
            self.status is DeliveryStatus.BOUNCED and self.bounce is Bounce.HARD
        )

    @property
    def due(self) -> bool:
        """Whether sending (again) may still reach the contact: not tried yet, or failed in a way a retry can mend."""
        return self.status is DeliveryStatus.QUEUED or (
            self.status is DeliveryStatus.FAILED
            and self.message_id is None
            and self.attempts < MAX_ATTEMPTS
            and self.reason not in FINAL_FAILURES
        )

    def queued_again(self) -> Delivery:
        """The contact, to be sent a new message (a resend); a suppressed address stays as it is."""
        if self.suppressed:
            return self
        return Delivery(self.position, self.contact)

    def tried(self, now: datetime, message_id: str | None, failure: str | None) -> Delivery:
        """The outcome of one try: accepted (with the provider's message id), refused, or opted out."""
        attempts = self.attempts + 1
        if failure == "opted_out":
            return replace(self, status=DeliveryStatus.OPTED_OUT, reason=None, attempts=attempts, updated_at=now)
        if failure is not None:
            return replace(self, status=DeliveryStatus.FAILED, reason=failure, attempts=attempts, updated_at=now)
        return replace(
            self,
            status=DeliveryStatus.SENT,
            reason=None,
            attempts=attempts,
            sent_at=now,
            message_id=message_id,
            updated_at=now,
        )

    def with_event(self, event: DeliveryEvent) -> Delivery:
        """The delivery once ``event`` is known; unchanged when it is about another message, or older news."""
        if event.message_id != self.message_id or _RANK[event.status] <= _RANK[self.status]:
            return self
        return replace(self, status=event.status, bounce=event.bounce, reason=event.reason, updated_at=event.at)


def deliveries_for(contacts: tuple[Contact, ...]) -> tuple[Delivery, ...]:
    """New deliveries, one per contact, numbered as they were typed."""
    return tuple(Delivery(position, contact) for position, contact in enumerate(contacts, start=1))


def sms_only(deliveries: tuple[Delivery, ...]) -> bool:
    """Whether every contact is a phone number (delivery is then less certain)."""
    return bool(deliveries) and all(d.contact.kind is ContactKind.SMS for d in deliveries)
