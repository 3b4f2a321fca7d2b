"""``GET /_local/outbox``: every e-mail and SMS the local stack "sent", newest first.

SES and SNS are moto's here, running in this process, so the outbox reads what they recorded. A
recorder stamps each message when it first sees it, since moto keeps no send time. The Blueprint is
registered by ``local/run.py`` only: it never exists in a deployed app.
"""

from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalice.app import Blueprint, Response
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

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
        self._lock = threading.Lock()

    def collect(self) -> None:
        """Stamp and keep every message not seen before."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock:
            for message in ses_backends[DEFAULT_ACCOUNT_ID][self._region].sent_messages:
                if message.id not in self._seen:
                    self._seen[message.id] = _email(message, now)
            for message_id, (phone, text) in sns_backends[DEFAULT_ACCOUNT_ID][self._region].sms_messages.items():
                if message_id not in self._seen:
                    self._seen[message_id] = Sent(
                        "sms", message_id, now, "SNS", [phone], "", text, None, _URL.findall(text)
                    )

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


def _email(message: Any, now: str) -> Sent:
    to = [address for addresses in (getattr(message, "destinations", None) or {}).values() for address in addresses]
    if hasattr(message, "raw_data"):
        body, html_body, subject = message.raw_data, None, ""
    else:
        body, subject = message.body, message.subject
        html_body = body if "<html" in body.lower() else None
    return Sent("email", message.id, now, message.source, to, subject, body, html_body, _URL.findall(body))


def blueprint(recorder: Recorder) -> Blueprint:
    """The outbox routes, reading ``recorder``."""
    bp = Blueprint(__name__)

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
<style>body{{font:15px/1.4 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}}
article{{border:1px solid #ccd;border-radius:8px;padding:.75rem 1rem;margin:.75rem 0}}
.meta{{color:#556;font-size:.85em}} pre{{white-space:pre-wrap}}</style></head>
<body><h1>Local outbox</h1><p class="meta">E-mail (SES) and SMS (SNS) sent by the local stack, newest first.
Generated {html.escape(time.strftime("%H:%M:%S"))}.</p>{rows}</body></html>"""


def _row(sent: Sent) -> str:
    links = "".join(f'<li><a href="{html.escape(u)}">{html.escape(u)}</a></li>' for u in sent.links)
    return (
        f'<article class="{sent.kind}"><div class="meta">{sent.kind.upper()} · {html.escape(sent.sent_at)} · '
        f"from {html.escape(sent.sender)} · to {html.escape(', '.join(sent.to))}</div>"
        f"<h2>{html.escape(sent.subject)}</h2><pre>{html.escape(sent.body)}</pre>"
        f"<ul>{links}</ul></article>"
    )
