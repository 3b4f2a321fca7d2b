"""Table E.1-1 of PS3.15 (Application Level Confidentiality Profile Attributes) as reviewed data.

The rows live in ``data/basic_profile.csv``: one row per attribute, its action in the Basic Profile and the
action of every option that changes it. The file was transcribed from the standard and is reviewed like
code; its ``# edition:`` line names the edition of PS3.15 it follows (:func:`profile_edition`), and
``tests/unit/anonymization/test_profile_table.py`` compares it with a transcription of that edition kept
outside this repository. Lines starting with ``#``, before the header, are comments.

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
_IN_COMPOSITE_IODS: Final[dict[str, bool | None]] = {"Y": True, "N": False, "": None}
_EDITION_LINE: Final = "# edition:"


@dataclass(frozen=True)
class ProfileRow:
    """One attribute of Table E.1-1."""

    tag: str
    name: str
    basic_profile: str
    in_standard_composite_iods: bool | None
    """The table's "in standard composite IODs" column; None where the transcription does not give it."""
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
    lines = _lines()
    comments = next(number for number, line in enumerate(lines) if not line.startswith("#"))  # they lead
    reader = csv.DictReader(io.StringIO("\n".join(lines[comments:])))
    option_columns = [Option(name) for name in (reader.fieldnames or [])[4:]]
    rows = tuple(_row(record, option_columns, line) for line, record in enumerate(reader, start=comments + 2))
    if len({row.tag for row in rows}) != len(rows):
        raise ValueError("basic_profile.csv lists a tag twice")
    return rows


@cache
def profile_edition() -> str:
    """The edition of PS3.15 the table follows ("2026c"), from its ``# edition:`` line."""
    for line in _lines():
        if line.startswith(_EDITION_LINE):
            return line.removeprefix(_EDITION_LINE).strip()
    raise ValueError("basic_profile.csv does not say which edition of PS3.15 it follows")


def _lines() -> list[str]:
    return resources.files(_PACKAGE).joinpath("data", "basic_profile.csv").read_text(encoding="utf-8").splitlines()


def _row(record: dict[str, str], option_columns: list[Option], line: int) -> ProfileRow:
    action = record["basic_profile"]
    if action not in BASIC_ACTIONS:
        raise ValueError(f"basic_profile.csv line {line}: unknown action code")
    options = {option: record[option.value] for option in option_columns if record[option.value]}
    if not set(options.values()) <= OPTION_ACTIONS:
        raise ValueError(f"basic_profile.csv line {line}: unknown option action")
    if record["in_standard_composite_iods"] not in _IN_COMPOSITE_IODS:
        raise ValueError(f"basic_profile.csv line {line}: in_standard_composite_iods is Y, N or empty")
    return ProfileRow(
        tag=record["tag"],
        name=record["name"],
        basic_profile=action,
        in_standard_composite_iods=_IN_COMPOSITE_IODS[record["in_standard_composite_iods"]],
        options=options,
    )
