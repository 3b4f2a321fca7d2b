"""Racing one attempt from many threads released together, as many copies of a Lambda at once."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(racers: int, attempt: Callable[[], object], refused: type[Exception]) -> tuple[int, int]:
    """Run ``attempt`` in ``racers`` threads released together: (how many returned, how many raised ``refused``)."""
    start = threading.Barrier(racers)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def run() -> None:
        start.wait()
        try:
            attempt()
        except refused:
            won = False
        else:
            won = True
        with lock:
            outcomes.append(won)

    threads = [threading.Thread(target=run) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes.count(True), outcomes.count(False)
