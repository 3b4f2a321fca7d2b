"""QIDO-RS wildcard matching: a 20-star pattern against a 64-character name, the worst case of the
backtracking matcher it replaced, against an exact comparison of the same strings in the same run.

    python bench/qido_match.py [--runs N]

Goal: under 1 ms a match, whatever the number of stars (the regular expression it replaced took about
six times longer per extra star, and minutes at twenty).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chalicelib.domain.studies import MAX_PATTERN, fold, wildcard_match

GOAL_MS = 1.0


def per_call_ms(call: object, runs: int, repeat: int = 200) -> float:
    """The median over ``runs`` of the mean time of ``repeat`` calls, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(repeat):
            call()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) / repeat * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    name = "A" * MAX_PATTERN
    for stars in (2, 5, 10, 20, 30):
        # Every piece found, then a last one searched through the whole name in vain: the worst case.
        pattern = "*A" * (stars - 2) + "*B*"
        matched = per_call_ms(lambda p=pattern: wildcard_match(p, name), args.runs)
        exact = per_call_ms(lambda p=pattern: fold(p) == fold(name), args.runs)
        print(f"{stars:2d} stars, 64-character name: {matched:.4f} ms a match ({exact:.4f} ms exact)")
    twenty = "*A" * 18 + "*B*"
    worst = per_call_ms(lambda: wildcard_match(twenty, name), args.runs)
    ok = worst < GOAL_MS
    print(f"20 stars: {worst:.4f} ms (goal < {GOAL_MS} ms) {'OK' if ok else 'OVER'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
