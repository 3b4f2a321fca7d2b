"""De-identify one DICOM file from the command line and print the report as JSON.

    python -m chalicelib.anonymize INPUT OUTPUT [--options LIST] [--key-hex HEX]

``--options`` is ``patient-share`` (the default, PATIENT_SHARE_OPTIONS), ``basic`` (no options), or a
comma-separated list of option names as the standard spells them (``retain-uids,clean-descriptors``).
``--key-hex`` is the share key; without it a random key is used, so UIDs and shifted dates will not match
those of any other run (which is what a one-off copy wants; pass the same key to keep a set consistent).

Exit status: 0 written, 3 not anonymizable (report printed, nothing written), 1 unreadable input or
unwritable output, 2 bad arguments. Errors go to stderr as one line, never with patient data.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from chalicelib.domain.anonymization import PATIENT_SHARE_OPTIONS, NotDicom, Options, anonymize_file
from chalicelib.domain.errors import InvalidInput

EXIT_WRITTEN: Final = 0
EXIT_UNREADABLE: Final = 1
EXIT_USAGE: Final = 2
EXIT_NOT_ANONYMIZABLE: Final = 3


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.anonymize",
        description="De-identify a DICOM file (PS3.15 Annex E) and print the report as JSON.",
    )
    parser.add_argument("input", type=Path, help="the DICOM file to read")
    parser.add_argument("output", type=Path, help="where to write the de-identified copy")
    parser.add_argument(
        "--options",
        default="patient-share",
        help="patient-share (default), basic, or comma-separated option names, e.g. retain-uids",
    )
    parser.add_argument("--key-hex", help="the share key in hex, at least 16 bytes (default: random)")
    arguments = parser.parse_args(argv)

    try:
        options = _options(arguments.options)
        key = bytes.fromhex(arguments.key_hex) if arguments.key_hex else secrets.token_bytes(32)
    except (InvalidInput, ValueError) as err:
        return _fail(EXIT_USAGE, str(err) if isinstance(err, InvalidInput) else "--key-hex is not hex")
    if not arguments.input.is_file():
        return _fail(EXIT_UNREADABLE, "the input file does not exist or is not a file")
    try:
        report = anonymize_file(arguments.input, arguments.output, key=key, options=options)
    except NotDicom as err:
        return _fail(EXIT_UNREADABLE, err.message)
    except ValueError as err:  # the key is too short
        return _fail(EXIT_USAGE, str(err))
    except OSError as err:
        return _fail(EXIT_UNREADABLE, f"could not read the input or write the output ({type(err).__name__})")
    print(json.dumps(report.as_json(), indent=2))
    return EXIT_WRITTEN if report.anonymizable else EXIT_NOT_ANONYMIZABLE


def _options(text: str) -> Options:
    if text == "patient-share":
        return PATIENT_SHARE_OPTIONS
    if text == "basic":
        return Options()
    return Options.parse(name for name in text.split(",") if name.strip())


def _fail(status: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
