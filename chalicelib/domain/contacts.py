"""Patient contacts as a person types them: ``"astrid@example.org, 070-123 45 67"``.

One comma-separated string becomes a list of e-mail addresses and E.164 phone numbers. Every feature
that reaches a patient (visit links, study shares) parses contacts here, so the rules are the same
everywhere:

* an e-mail address is checked for its syntax with ``email-validator`` (no DNS lookup: a lookup is
  slow, fails offline, and tells a third party whom we are writing to); its domain is lower-cased;
* a phone number is parsed with ``phonenumbers``; one without ``+`` is read in the clinic's country
  (``DEFAULT_COUNTRY``, Sweden, unless the clinic says otherwise) and must be a valid mobile number
  (links go out by text message);
* the same contact twice counts once; an empty list, or one over ``MAX_CONTACTS``, is refused.

Errors name the contact by its position ("contact 2 …"), never by its value: messages reach logs.
Screens that list many shares show a contact masked (``masked``): enough to recognise it, not to read it.
Both libraries load on first use, so importing this module costs a cold start nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain.errors import InvalidInput

DEFAULT_COUNTRY = "SE"
MAX_CONTACTS = 5
_MAX_CONTACT_LENGTH = 254  # the longest e-mail address SMTP carries


class ContactKind(StrEnum):
    """How a contact is reached."""

    EMAIL = "email"
    """By e-mail (SES)."""
    SMS = "sms"
    """By text message to a mobile phone (SNS)."""


class ContactProblem(StrEnum):
    """Why one contact was refused (words for people are the caller's, in its language)."""

    INVALID = "invalid"
    """Neither a valid e-mail address nor a valid phone number."""
    NOT_MOBILE = "not_mobile"
    """A valid phone number, but not a mobile one: text messages need one."""


class InvalidContact(InvalidInput):
    """One contact refused, named by its 1-based position and the problem, never by its value."""

    def __init__(self, message: str, position: int, problem: ContactProblem) -> None:
        super().__init__(message)
        self.position = position
        self.problem = problem


class InvalidContacts(InvalidInput):
    """Some contacts of a list were refused: every one of them, in the order typed."""

    def __init__(self, refused: tuple[InvalidContact, ...]) -> None:
        super().__init__("; ".join(r.message for r in refused))
        self.refused = refused


@dataclass(frozen=True)
class Contact:
    """One way to reach the patient, normalised: an e-mail address or an E.164 phone number."""

    kind: ContactKind
    address: str


#: What stands for the hidden part of a masked contact: always the same, so the mask does not tell a length.
MASK = "•••"
#: How many characters of a contact a mask leaves: the last ones of an address's local part, of a number.
_SHOWN_OF_LOCAL_PART = 3
_SHOWN_OF_NUMBER = 4


def masked(contact: Contact) -> str:
    """A contact with all but its last characters hidden: ``•••ist@•••.org``, ``•••4567``.

    An e-mail address keeps the end of its local part (never all of it) and its top-level domain; a phone
    number its last four digits. The one rule for every screen that shows contacts without showing them.
    """
    if contact.kind is ContactKind.SMS:
        return MASK + contact.address[-_SHOWN_OF_NUMBER:]
    local, _, domain = contact.address.rpartition("@")
    keep = max(0, min(_SHOWN_OF_LOCAL_PART, len(local) - 1))
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    return f"{MASK}{local[len(local) - keep :]}@{MASK}" + (f".{tld}" if tld else "")


def parse_contacts(raw: str, country: str = DEFAULT_COUNTRY) -> tuple[Contact, ...]:
    """Parse a comma-separated list of e-mail addresses and phone numbers, in the order given.

    Raises InvalidContacts (an InvalidInput) naming every bad contact by its 1-based position (so that one
    answer is enough to correct them all).
    """
    parts = [part.strip() for part in raw.split(",")]
    if not any(parts):
        raise InvalidInput("'contacts' must name at least one e-mail address or phone number")
    contacts: list[Contact] = []
    refused: list[InvalidContact] = []
    for position, part in enumerate(parts, start=1):
        if not part:
            continue  # "a@b.se, " and "a@b.se,,c@d.se" are typing, not errors
        try:
            contact = parse_contact(part, position, country)
        except InvalidContact as err:
            refused.append(err)
            continue
        if contact not in contacts:
            contacts.append(contact)
    if refused:
        raise InvalidContacts(tuple(refused))
    if len(contacts) > MAX_CONTACTS:
        raise InvalidInput(f"At most {MAX_CONTACTS} contacts a visit")
    return tuple(contacts)


def parse_contact(text: str, position: int, country: str = DEFAULT_COUNTRY) -> Contact:
    """One contact: an e-mail address when it holds ``@``, else a phone number."""
    if len(text) > _MAX_CONTACT_LENGTH:
        raise _invalid(position)
    if "@" in text:
        return Contact(ContactKind.EMAIL, _email(text, position))
    return Contact(ContactKind.SMS, _phone(text, position, country))


class InvalidCountry(InvalidInput):
    """A country that is no ISO 3166 alpha-2 code phone numbers know."""

    public_code = "InvalidInput"


def check_country(code: str) -> str:
    """A clinic's country as an ISO 3166 alpha-2 code phone numbers know (``SE``, ``NO``…)."""
    import phonenumbers

    normalised = code.strip().upper()
    if normalised not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidCountry("'country' must be a two-letter country code such as SE")
    return normalised


def _email(text: str, position: int) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        validated = validate_email(text, check_deliverability=False)
    except EmailNotValidError as err:
        raise _invalid(position) from err
    return str(validated.normalized)


def _phone(text: str, position: int, country: str) -> str:
    import phonenumbers

    if not any(c.isdigit() for c in text):
        raise _invalid(position)
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else country)
    except phonenumbers.NumberParseException as err:
        raise _invalid(position) from err
    if not phonenumbers.is_valid_number(number):
        raise _invalid(position)
    textable = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if phonenumbers.number_type(number) not in textable:
        raise InvalidContact(
            f"contact {position} is not a mobile phone number (text messages need one)",
            position,
            ContactProblem.NOT_MOBILE,
        )
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _invalid(position: int) -> InvalidContact:
    # The value itself is never repeated: error messages reach logs and screens.
    return InvalidContact(
        f"contact {position} is not a valid e-mail address or phone number", position, ContactProblem.INVALID
    )
