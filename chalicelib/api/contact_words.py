"""Every problem of contacts as a clinician typed them, worded in Swedish and English: the one wording the
console's forms (Send to patient, Start a visit) and its live check share. The domain names each bad contact
by its position and problem (``InvalidContacts``), never by its value."""

from __future__ import annotations

from chalicelib.domain.contacts import MAX_CONTACTS, ContactProblem, InvalidContacts, parse_contacts
from chalicelib.domain.errors import InvalidInput

_CONTACT_PROBLEMS = {
    ContactProblem.INVALID: (
        "Kontakt {n} är varken en giltig e-postadress eller ett telefonnummer.",
        "Contact {n} is not a valid e-mail address or phone number.",
    ),
    ContactProblem.NOT_MOBILE: (
        "Kontakt {n} är inte ett mobilnummer (sms kräver ett).",
        "Contact {n} is not a mobile number (text messages need one).",
    ),
}
_NO_CONTACTS = (
    "Skriv minst en e-postadress eller ett mobilnummer.",
    "Type at least one e-mail address or mobile number.",
)
_TOO_MANY = (f"Högst {MAX_CONTACTS} kontakter.", f"At most {MAX_CONTACTS} contacts.")


def contact_problems(raw: str, country: str) -> list[tuple[str, str]]:
    """Every problem of contacts as typed, in sv and en (none when ``parse_contacts`` takes them)."""
    try:
        parse_contacts(raw, country)
    except InvalidContacts as err:
        return _words_of(err)
    except InvalidInput:
        return [_NO_CONTACTS if not raw.replace(",", "").strip() else _TOO_MANY]
    return []


def _words_of(err: InvalidContacts) -> list[tuple[str, str]]:
    return [
        (_CONTACT_PROBLEMS[r.problem][0].format(n=r.position), _CONTACT_PROBLEMS[r.problem][1].format(n=r.position))
        for r in err.refused
    ]
