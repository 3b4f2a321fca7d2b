"""Patient-identifying values the tests use, in one place, so that a check can prove none of them
ever reaches a log line, a metric or a trace (see ``leak_check`` in conftest.py).

Every test that needs a patient's name, id, e-mail address or phone number takes it from here.
"""

PATIENT_NAMES = ("Astrid Lindqvist", "Bertil Öberg", "Lindqvist^Astrid")
PATIENT_IDS = ("19121212-1212", "PID-778812")
EMAILS = ("astrid.lindqvist@example.org", "bertil.oberg@example.com")
PHONES = ("+46701234567", "0701234567", "+46709876543")

ALL = PATIENT_NAMES + PATIENT_IDS + EMAILS + PHONES


def leaked(text: str) -> list[str]:
    """The patient values that occur in ``text`` (case-insensitively)."""
    lowered = text.lower()
    return [value for value in ALL if value.lower() in lowered]
