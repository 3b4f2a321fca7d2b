"""Contacts as a person types them: one comma-separated string, e-mail addresses and phone numbers."""

from __future__ import annotations

import pytest

from chalicelib.domain.contacts import MAX_CONTACTS, Contact, ContactKind, check_country, masked, parse_contacts
from chalicelib.domain.errors import InvalidInput
from tests import patient_data


def test_emails_and_phones_in_the_order_typed() -> None:
    raw = f" {patient_data.EMAILS[0]} ,{patient_data.PHONES[1]},  {patient_data.PHONES[2]} "
    assert parse_contacts(raw) == (
        Contact(ContactKind.EMAIL, patient_data.EMAILS[0]),
        Contact(ContactKind.SMS, patient_data.PHONES[0]),  # 070… read in Sweden: +4670…
        Contact(ContactKind.SMS, patient_data.PHONES[2]),
    )


@pytest.mark.parametrize(
    ("typed", "e164"),
    [("070-123 45 67", "+46701234567"), ("+46 (0)70 123 45 67", "+46701234567"), ("0046701234567", "+46701234567")],
)
def test_phone_numbers_are_normalised_to_e164(typed: str, e164: str) -> None:
    assert parse_contacts(typed) == (Contact(ContactKind.SMS, e164),)


def test_a_number_without_plus_is_read_in_the_clinics_country() -> None:
    assert parse_contacts("412 34 567", "NO") == (Contact(ContactKind.SMS, "+4741234567"),)
    assert parse_contacts("+4741234567", "SE") == (Contact(ContactKind.SMS, "+4741234567"),)


def test_email_domains_are_lower_cased_and_duplicates_count_once() -> None:
    upper = patient_data.EMAILS[1].replace("example.com", "EXAMPLE.COM")
    raw = f"{patient_data.EMAILS[1]}, {upper}, {patient_data.PHONES[0]}, {patient_data.PHONES[1]},,"
    assert parse_contacts(raw) == (
        Contact(ContactKind.EMAIL, patient_data.EMAILS[1]),
        Contact(ContactKind.SMS, patient_data.PHONES[0]),
    )


@pytest.mark.parametrize(
    ("raw", "position"),
    [
        (f"{patient_data.EMAILS[0]}, astrid@", 2),
        ("not-an-address", 1),
        (f"{patient_data.PHONES[0]}, {patient_data.EMAILS[0]}, 12", 3),
        ("astrid lindqvist@example.org", 1),
        (f"{patient_data.EMAILS[0]}, +46 70", 2),
        ("x" * 300 + "@example.org", 1),
    ],
)
def test_an_invalid_contact_is_named_by_its_position_never_its_value(raw: str, position: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_contacts(raw)
    assert refused.value.message == f"contact {position} is not a valid e-mail address or phone number"
    assert patient_data.leaked(refused.value.message) == []


def test_every_invalid_contact_is_named_by_its_position() -> None:
    raw = f"astrid@, {patient_data.EMAILS[0]}, 08-123 456 78, , {patient_data.PHONES[0]}, 12"
    with pytest.raises(InvalidInput) as refused:
        parse_contacts(raw)
    assert refused.value.message == (
        "contact 1 is not a valid e-mail address or phone number; "
        "contact 3 is not a mobile phone number (text messages need one); "
        "contact 6 is not a valid e-mail address or phone number"
    )
    assert patient_data.leaked(refused.value.message) == []


def test_a_landline_cannot_take_text_messages() -> None:
    with pytest.raises(InvalidInput, match="contact 1 is not a mobile phone number"):
        parse_contacts("08-123 456 78")


@pytest.mark.parametrize("raw", ["", "  ", " , ,"])
def test_no_contact_at_all_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        parse_contacts(raw)


def test_too_many_contacts_are_refused() -> None:
    raw = ",".join(f"p{i}@example.org" for i in range(MAX_CONTACTS + 1))
    with pytest.raises(InvalidInput, match=f"At most {MAX_CONTACTS}"):
        parse_contacts(raw)


def test_country_codes() -> None:
    assert check_country(" no ") == "NO"
    with pytest.raises(InvalidInput, match="country"):
        check_country("Sweden")


@pytest.mark.parametrize(
    ("contact", "shown"),
    [
        (Contact(ContactKind.EMAIL, patient_data.EMAILS[0]), "•••ist@•••.org"),
        (Contact(ContactKind.EMAIL, "ab@klinik.se"), "•••b@•••.se"),
        (Contact(ContactKind.EMAIL, "a@klinik.se"), "•••@•••.se"),
        (Contact(ContactKind.EMAIL, "anna@localhost"), "•••nna@•••"),
        (Contact(ContactKind.SMS, patient_data.PHONES[0]), "•••4567"),
    ],
)
def test_a_masked_contact_keeps_only_its_last_characters(contact: Contact, shown: str) -> None:
    assert masked(contact) == shown
    assert contact.address not in shown
    local = contact.address.split("@")[0]
    assert local not in shown.split("@")[0]  # never a whole local part, however short
