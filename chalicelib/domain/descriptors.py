"""Clean Descriptors (PS3.15 E.3.5): keep what a description says about the images, nothing else.

Free text can hold anything, a name or a phone number typed by a technologist included, so we do not try to
find identifying words: we keep only words from a reviewed vocabulary of modalities, anatomy, techniques
and orientation, and numbers that carry a unit ("5MM"). "CT THORAX/ABDOMEN W CONTRAST 5mm Dr Smith
0701-123456" becomes "CT THORAX ABDOMEN W CONTRAST 5mm". Case is kept; separators become single spaces.

The vocabulary is ``anonymization/data/descriptor_words.txt``: add words there when a real description
loses meaning; every word must be unable to identify a person.

The anonymizer cleans descriptions in the files with it, and the patient's page the study description from
the clinic's records. It lives outside the ``anonymization`` package so that the page does not import the
engine (pydicom and all: 0.9 s) to clean one line.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Final

# A number with a unit: "5MM", "2.5mm", "120KV", "1.5T". Bare numbers are dropped: they are how dates,
# phone numbers and identifiers look once split.
_MEASURE: Final = re.compile(r"\d{1,3}(?:\.\d{1,2})?(?:MM|CM|M|KV|MAS|MS|S|T|MHZ|HZ|D)", re.IGNORECASE)
_SEPARATORS: Final = re.compile(r"[^0-9A-Za-z.]+|(?<!\d)\.|\.(?!\d)")


def clean_descriptor(text: str) -> str:
    """``text`` with every word outside the vocabulary dropped; "" when nothing is left."""
    vocabulary = safe_words()
    kept = [word for word in _SEPARATORS.split(text) if word.upper() in vocabulary or _MEASURE.fullmatch(word)]
    return " ".join(kept)


@cache
def safe_words() -> frozenset[str]:
    """The reviewed vocabulary, upper case."""
    text = resources.files("chalicelib.domain").joinpath("anonymization", "data", "descriptor_words.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(word.upper() for line in lines if not line.startswith("#") for word in line.split())
