"""The one notifier: every e-mail and text the service sends goes through ``send``.

Share links, visit links and one-time codes differ only in their words, which are templates in sv and
en (``<notice>_subject.txt``, ``<notice>_email.txt``/``.html``, ``<notice>_sms.txt``). For each delivery
the notifier skips an address that hard-bounced or complained, checks the number's SMS opt-out, sends
through SES or SNS, emits one set of metrics per channel, and remembers the provider's message id so
that the delivery-events worker can find the delivery again when SES or SNS reports on it.

Subjects name the clinic at most: they show on lock screens and in mail logs, so no patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.contacts import ContactKind
from chalicelib.domain.deliveries import Delivery, MessageOwner
from chalicelib.domain.errors import DeliveryFailed, Unavailable
from chalicelib.services.deps import Deps
from chalicelib.services.ports import Email


class Notice(StrEnum):
    """What a message is; names its templates."""

    SHARE_LINK = "share"
    VISIT_LINK = "visit"
    SHARE_CODE = "share_code"


@dataclass(frozen=True)
class Message:
    """One message to send to a share's or a visit's contacts."""

    notice: Notice
    language: str
    sender_name: str
    """The clinic's name, shown as the e-mail's sender."""
    words: dict[str, Any]
    """What the templates fill in (``clinic_name`` always among them)."""
    owner: MessageOwner | None
    """The record whose deliveries the provider's events update; None for messages not followed (codes)."""
    keep_until: datetime
    """How long the provider's events can still matter (the record's own life)."""


def send(delivery: Delivery, message: Message, now: datetime, deps: Deps) -> Delivery:
    """Send ``message`` to one delivery's contact; the delivery as it then stands (sent, failed, opted out).

    A suppressed address (hard bounce, complaint) is not written to, and a provider failing for a moment
    (``Unavailable``) sends nothing: either way the delivery comes back unchanged (the latter still due).
    """
    from chalicelib.observability import count
    from chalicelib.templating import render

    if delivery.suppressed:
        return delivery
    channel = _channel(delivery)
    lang, words = message.language, message.words
    address = delivery.contact.address
    try:
        if delivery.contact.kind is ContactKind.EMAIL:
            template = message.notice.value
            email = Email(
                to=address,
                sender_name=message.sender_name,
                subject=render(f"{template}_subject.txt", lang, **words).strip(),
                text=render(f"{template}_email.txt", lang, **words),
                html=render(f"{template}_email.html", lang, **words),
            )
            message_id = deps.mailer.send(email)
        else:
            if deps.sms.is_opted_out(address):
                count("SmsOptedOut")
                return delivery.tried(now, None, "opted_out")
            message_id = deps.sms.send(address, render(f"{message.notice.value}_sms.txt", lang, **words).strip())
    except DeliveryFailed as failed:
        count(f"{channel}Failed")
        return delivery.tried(now, None, failed.code)
    except Unavailable:
        # SES or SNS failed for a moment: nothing was sent, and no attempt is spent. The delivery stays due,
        # so the others' outcomes are still recorded and the retry (the delivery job) sends this one only;
        # raising here would lose what was already sent, and send it again.
        from chalicelib.observability import logger

        logger.warning("message provider unavailable; the delivery is retried", extra={"channel": channel})
        return delivery
    count(f"{channel}Sent")
    if message.owner is not None:
        deps.message_index.remember(message_id, message.owner.at(delivery.position), message.keep_until)
    return delivery.tried(now, message_id, None)


def send_all(deliveries: tuple[Delivery, ...], message: Message, now: datetime, deps: Deps) -> tuple[Delivery, ...]:
    """Send ``message`` to every delivery that is due; the others stay as they are."""
    return tuple(send(d, message, now, deps) if d.due else d for d in deliveries)


def unsendable(deliveries: tuple[Delivery, ...], reason: str, now: datetime) -> tuple[Delivery, ...]:
    """Every delivery that is due, failed for good without sending (``reason``: why nothing can be sent)."""
    from chalicelib.observability import count

    for delivery in deliveries:
        if delivery.due:
            count(f"{_channel(delivery)}Failed")  # in the funnels and the failure alarms like any refusal
    return tuple(d.tried(now, None, reason) if d.due else d for d in deliveries)


def _channel(delivery: Delivery) -> str:
    """The channel's name in the metrics."""
    return "Email" if delivery.contact.kind is ContactKind.EMAIL else "Sms"
