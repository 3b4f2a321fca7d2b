"""One JSON line per event, with opaque ids and SOP Instance UIDs only: never a patient's name, id or date."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO


class JsonLog:
    """Writes one JSON object per line; safe to share between the SCP's threads and the sender."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        """Log ``event`` with ``fields`` (ids, counts, statuses: the caller keeps patient data out)."""
        line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event, **fields})
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class _LibraryHandler(logging.Handler):
    """pynetdicom's warnings and errors as JSON lines: the message and the exception's type, no traceback
    (a traceback's locals are not printed, but its lines could quote a dataset)."""

    def __init__(self, log: JsonLog) -> None:
        super().__init__(logging.WARNING)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        fields: dict[str, Any] = {"level": record.levelname.lower(), "message": record.getMessage()[:300]}
        if record.exc_info and record.exc_info[0] is not None:
            fields["error"] = record.exc_info[0].__name__
        self._log.write("pynetdicom", **fields)


def route_library_logs(log: JsonLog) -> None:
    """Send pynetdicom's own log (warnings and errors only) through ``log``."""
    library = logging.getLogger("pynetdicom")
    library.handlers.clear()
    library.addHandler(_LibraryHandler(log))
    library.setLevel(logging.WARNING)
    library.propagate = False
