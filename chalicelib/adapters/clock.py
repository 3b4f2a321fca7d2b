"""The system clock."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Reads the machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)
