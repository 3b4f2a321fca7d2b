"""A clock the local stack can move forward, so a person (or a test) can watch links expire.

``POST /_local/clock`` with ``{"advance_days": 91}`` moves it, ``{"reset": true}`` brings it back to the
machine's time; ``GET /_local/clock`` tells the time.
It exists only on the local stack, like the outbox: deployed Lambdas use the system clock.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

from chalice.app import Blueprint, Response

from chalicelib.adapters.clock import SystemClock


class ShiftableClock:
    """The system clock plus an offset."""

    def __init__(self) -> None:
        self._system = SystemClock()
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._system.now() + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward."""
        with self._lock:
            self._offset += delta
        return self.now()

    def reset(self) -> datetime:
        """Back to the machine's time."""
        with self._lock:
            self._offset = timedelta()
        return self.now()


def blueprint(clock: ShiftableClock) -> Blueprint:
    """The clock routes."""
    bp = Blueprint(__name__)

    @bp.route("/_local/clock", methods=["GET"])
    def read() -> Response:
        return Response(body={"now": clock.now().isoformat()}, status_code=200)

    @bp.route("/_local/clock", methods=["POST"], content_types=["application/json"])
    def advance() -> Response:
        try:
            body = json.loads(bp.current_request.raw_body or b"{}")
            if body.get("reset") is True:
                return Response(body={"now": clock.reset().isoformat()}, status_code=200)
            days = float(body.get("advance_days", 0))
        except (ValueError, TypeError, AttributeError):
            return Response(body={"Code": "MalformedRequest", "Message": 'Send {"advance_days": N}'}, status_code=400)
        if not 0 <= days <= 3650:
            return Response(body={"Code": "InvalidInput", "Message": "advance_days must be 0 to 3650"}, status_code=422)
        return Response(body={"now": clock.advance(timedelta(days=days)).isoformat()}, status_code=200)

    return bp
