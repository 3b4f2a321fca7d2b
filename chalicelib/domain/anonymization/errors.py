"""Errors of the anonymization engine. Messages name tags and offsets, never values."""

from __future__ import annotations

from chalicelib.domain.errors import UnsupportedMediaType


class NotDicom(UnsupportedMediaType):
    """The input is not a DICOM Part 10 file we can parse (no preamble, truncated, corrupt)."""
