"""Table E.1-1 of PS3.15 (Application Level Confidentiality Profile Attributes) as reviewed data.

The rows live in ``data/basic_profile.csv``: one row per attribute, its action in the Basic Profile and the
action of every option that changes it. The file was transcribed once from the standard and is reviewed
like code; ``tests/unit/anonymization/test_profile_table.py`` compares it with a transcription of the
standard kept outside this repository.

Tags are written as in the standard: ``(0010,0010)``; ``x`` stands for any hex digit in repeating groups
(``(60XX,3000)``), and ``(GGGG,EEEE)`` is the row for all private attributes (odd groups).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from chalicelib.domain.anonymization.options import Option

_PACKAGE: Final = "chalicelib.domain.anonymization"
PRIVATE_ATTRIBUTES_TAG: Final = "(GGGG,EEEE)"

BASIC_ACTIONS: Final = frozenset({"X", "Z", "D", "K", "C", "U", "X/Z", "X/D", "Z/D", "X/Z/D", "X/Z/U*"})
OPTION_ACTIONS: Final = frozenset({"K", "C"})


@dataclass(frozen=True)
class ProfileRow:
    """One attribute of Table E.1-1."""

    tag: str
    name: str
    basic_profile: str
    in_standard_composite_iods: bool
    options: Mapping[Option, str]

    @property
    def number(self) -> int | None:
        """The tag as a number; None for the rows of repeating groups and of private attributes."""
        if any(wildcard in self.tag for wildcard in "XG"):
            return None
        return int(self.tag[1:5] + self.tag[6:10], 16)


@cache
def profile_rows() -> tuple[ProfileRow, ...]:
    """The rows of Table E.1-1, read once from the package and checked for well-formedness."""
    text = resources.files(_PACKAGE).joinpath("data", "basic_profile.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    option_columns = [Option(name) for name in (reader.fieldnames or [])[4:]]
    rows = tuple(_row(record, option_columns, line) for line, record in enumerate(reader, start=2))
    if len({row.tag for row in rows}) != len(rows):
        raise ValueError("basic_profile.csv lists a tag twice")
    return rows


def _row(record: dict[str, str], option_columns: list[Option], line: int) -> ProfileRow:
    action = record["basic_profile"]
    if action not in BASIC_ACTIONS:
        raise ValueError(f"basic_profile.csv line {line}: unknown action code")
    options = {option: record[option.value] for option in option_columns if record[option.value]}
    if not set(options.values()) <= OPTION_ACTIONS:
        raise ValueError(f"basic_profile.csv line {line}: unknown option action")
    return ProfileRow(
        tag=record["tag"],
        name=record["name"],
        basic_profile=action,
        in_standard_composite_iods=record["in_standard_composite_iods"] == "Y",
        options=options,
    )
