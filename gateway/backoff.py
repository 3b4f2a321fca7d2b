"""Exponential backoff with jitter, bounded: how long the sender waits after the service failed it."""

from __future__ import annotations

import random


class Backoff:
    """Each failure doubles the wait, up to ``cap`` seconds; the wait is jittered ("equal jitter": half of it
    fixed, half random) so gateways that lost the service together do not come back in step.

    ``rng`` is injected: tests pass a seeded ``random.Random``.
    """

    def __init__(self, *, base_s: float = 1.0, cap_s: float = 300.0, rng: random.Random | None = None) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError("backoff needs 0 < base <= cap")
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrecy)

    def next_delay(self) -> float:
        """The wait after one more failure."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(self.failures, 62))
        self.failures += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        """The service answered: the next failure starts from ``base_s`` again."""
        self.failures = 0
