"""``GET /_local/outbox``: every e-mail and SMS the local stack "sent", newest first.

SES and SNS are moto's here, running in this process, so the outbox reads what they recorded. A
recorder stamps each message when it first sees it, since moto keeps no send time. The Blueprint is
registered by ``local/run.py`` only: it never exists in a deployed app.

moto publishes no delivery events, so each message has buttons (and ``POST /_local/outbox/{id}/events``
with ``{"event": …}``) that play what SES or SNS would report: delivered, bounce, soft bounce, complaint,
delay for e-mail; delivered or failed for a text. The record goes into the same queue, or to the same
handler, as in AWS (``local/provider_events.py``).
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from chalice.app import Blueprint, Response
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from local import provider_events

_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class Sent:
    """One message as the outbox shows it."""

    kind: str  # "email" or "sms"
    message_id: str
    sent_at: str
    sender: str
    to: list[str]
    subject: str
    body: str
    html: str | None
    links: list[str] = field(default_factory=list)


class Recorder:
    """Collects what moto's SES and SNS have accepted, in the order they were sent."""

    def __init__(self, region: str) -> None:
        self._region = region
        self._seen: dict[str, Sent] = {}
        self._text_parts: dict[str, str] = {}
        self._lock = threading.Lock()

    def listen(self, events: Any) -> None:
        """Catch each e-mail's plain-text part as it is sent, on boto3's event system (``events``).

        moto keeps only the HTML part of an e-mail that has both, and the outbox shows them side by side.
        Clients made after this call carry the hooks.
        """
        events.register("provide-client-params.ses.SendEmail", self._text_part)
        events.register("after-call.ses.SendEmail", self._keep_text_part)

    @staticmethod
    def _text_part(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["outbox_text"] = params.get("Message", {}).get("Body", {}).get("Text", {}).get("Data")

    def _keep_text_part(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        text, message_id = context.get("outbox_text"), parsed.get("MessageId")
        if text is not None and message_id:
            with self._lock:
                self._text_parts[message_id] = text

    def collect(self) -> None:
        """Stamp and keep every message not seen before."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock:
            for message in ses_backends[DEFAULT_ACCOUNT_ID][self._region].sent_messages:
                if message.id not in self._seen:
                    self._seen[message.id] = _email(message, now, self._text_parts.get(message.id))
            for message_id, (phone, text) in sns_backends[DEFAULT_ACCOUNT_ID][self._region].sms_messages.items():
                if message_id not in self._seen:
                    self._seen[message_id] = Sent(
                        "sms", message_id, now, "SNS", [phone], "", text, None, _URL.findall(text)
                    )

    def find(self, message_id: str) -> Sent | None:
        """One message by its provider id."""
        self.collect()
        with self._lock:
            return self._seen.get(message_id)

    def newest_first(self) -> list[Sent]:
        """Everything sent so far, newest first."""
        self.collect()
        with self._lock:
            return list(reversed(self._seen.values()))

    def run_in_background(self, stop: threading.Event, every_s: float = 0.2) -> threading.Thread:
        """Collect continuously, so send times are accurate to ``every_s``."""

        def loop() -> None:
            while not stop.wait(every_s):
                self.collect()

        thread = threading.Thread(target=loop, name="local-outbox", daemon=True)
        thread.start()
        return thread


def _email(message: Any, now: str, text: str | None) -> Sent:
    """``body`` is the plain-text part (``text`` when it was caught as sent), ``html`` the HTML part."""
    to = [address for addresses in (getattr(message, "destinations", None) or {}).values() for address in addresses]
    if hasattr(message, "raw_data"):
        return Sent("email", message.id, now, message.source, to, "", message.raw_data, None)
    html_body = message.body if "<html" in message.body.lower() else None
    body = text if text is not None else message.body
    links = _URL.findall(body) or _URL.findall(message.body)
    return Sent("email", message.id, now, message.source, to, message.subject, body, html_body, links)


class EventInjector:
    """Plays a provider's delivery event for one message, into the queue or handler AWS would use."""

    def __init__(self, region: str, events_queue: str, clock: Any, sms_receipts: Any) -> None:
        self._region = region
        self._events_queue = events_queue
        self._clock = clock
        self._sms_receipts = sms_receipts

    def inject(self, sent: Sent, event: str) -> None:
        """Raise ValueError for an event that does not fit the message's kind."""
        now = self._clock.now()
        if sent.kind == "email":
            if event not in provider_events.EMAIL_EVENTS:
                raise ValueError(event)
            from chalicelib.adapters.aws import client

            sqs = client("sqs")
            url = sqs.get_queue_url(QueueName=self._events_queue)["QueueUrl"]
            record = provider_events.ses_record(event, sent.message_id, sent.sender, sent.to, now)
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
            return
        if event not in provider_events.SMS_EVENTS:
            raise ValueError(event)
        line = provider_events.sms_log_line(event, sent.message_id, sent.to[0], now)
        logs = provider_events.logs_subscription_event([line], event == "sms_delivered", self._region)
        self._sms_receipts(logs, None)


def blueprint(recorder: Recorder, injector: EventInjector) -> Blueprint:
    """The outbox routes, reading ``recorder`` and playing events through ``injector``."""
    bp = Blueprint(__name__)

    @bp.route("/_local/outbox/{message_id}/events", methods=["POST"], content_types=_EVENT_TYPES)
    def play(message_id: str) -> Response:
        request = bp.current_request
        raw = request.raw_body or b""
        if "json" in (request.headers.get("content-type") or ""):
            try:
                event = str(json.loads(raw).get("event", ""))
            except (ValueError, AttributeError):
                event = ""
        else:
            event = parse_qs(raw.decode("utf-8", "replace")).get("event", [""])[-1]
        sent = recorder.find(message_id)
        if sent is None:
            return Response(body={"Code": "NotFound", "Message": "No such message"}, status_code=404)
        try:
            injector.inject(sent, event)
        except ValueError:
            return Response(body={"Code": "InvalidInput", "Message": "No such event for this message"}, status_code=422)
        if "json" in (request.headers.get("content-type") or ""):
            return Response(body={"message_id": message_id, "event": event}, status_code=202)
        return Response(body="", status_code=303, headers={"Location": "/_local/outbox"})

    @bp.route("/_local/outbox", methods=["GET"])
    def outbox() -> Response:
        sent = recorder.newest_first()
        accept = (bp.current_request.headers.get("accept") or "").lower()
        if "application/json" in accept:
            return Response(
                body={"messages": [asdict(s) for s in sent]}, status_code=200, headers={"Cache-Control": "no-store"}
            )
        return Response(
            body=_page(sent),
            status_code=200,
            headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
        )

    return bp


def _page(sent: list[Sent]) -> str:
    rows = "\n".join(_row(s) for s in sent) or "<p>Nothing sent yet.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Local outbox</title>
<style>body{{font:15px/1.4 system-ui,sans-serif;max-width:80rem;margin:1rem auto;padding:0 1rem}}
article{{border:1px solid #ccd;border-radius:8px;padding:.75rem 1rem;margin:.75rem 0}}
.meta{{color:#556;font-size:.85em}} pre{{white-space:pre-wrap;overflow-wrap:anywhere;margin:0}}
.parts section{{min-width:0}}
.parts{{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr))}}
.parts h3{{font-size:.85em;color:#556;margin:0 0 .3rem}}
.parts iframe{{width:100%;height:32rem;border:1px solid #ccd;border-radius:6px;background:#fff}}</style></head>
<body><h1>Local outbox</h1><p class="meta">E-mail (SES) and SMS (SNS) sent by the local stack, newest first.
Generated {html.escape(time.strftime("%H:%M:%S"))}.</p>{rows}</body></html>"""


def _row(sent: Sent) -> str:
    links = "".join(f'<li><a href="{html.escape(u)}">{html.escape(u)}</a></li>' for u in sent.links)
    events = provider_events.EMAIL_EVENTS if sent.kind == "email" else provider_events.SMS_EVENTS
    action = f"/_local/outbox/{html.escape(sent.message_id)}/events"
    buttons = "".join(f'<button type="submit" name="event" value="{e}">{_EVENT_LABELS[e]}</button> ' for e in events)
    return (
        f'<article class="{sent.kind}"><div class="meta">{sent.kind.upper()} · {html.escape(sent.sent_at)} · '
        f"from {html.escape(sent.sender)} · to {html.escape(', '.join(sent.to))}</div>"
        f"<h2>{html.escape(sent.subject)}</h2>{_parts(sent)}"
        f"<ul>{links}</ul>"
        f'<form method="post" action="{action}" aria-label="Play a provider event">{buttons}</form></article>'
    )


def _parts(sent: Sent) -> str:
    """The plain text, and beside it the HTML part rendered in a frame that may run nothing and reach nothing
    (an empty ``sandbox``: no scripts, no forms, no same origin as this page)."""
    text = f"<pre>{html.escape(sent.body)}</pre>"
    if sent.html is None:
        return text
    return (
        f'<div class="parts"><section><h3>Plain text</h3>{text}</section>'
        f'<section><h3>HTML, as a mail program shows it</h3><iframe sandbox title="HTML part: '
        f'{html.escape(sent.subject)}" srcdoc="{html.escape(sent.html, quote=True)}"></iframe></section></div>'
    )


_EVENT_TYPES = ["application/json", "application/x-www-form-urlencoded"]
_EVENT_LABELS = {
    "delivered": "Delivered",
    "bounce": "Bounce (hard)",
    "soft_bounce": "Bounce (soft)",
    "complaint": "Complaint",
    "delay": "Delayed",
    "sms_delivered": "SMS delivered",
    "sms_failed": "SMS failed",
}
