"""Contacts refused one by one (position and problem, never the value), and the words the
console gives every reason of the anonymizer."""

from __future__ import annotations

import pytest

from chalicelib.api.console_studies import REASONS
from chalicelib.domain.anonymization import ReasonCode
from chalicelib.domain.contacts import ContactProblem, InvalidContacts, parse_contacts
from chalicelib.domain.verdicts import NOT_ASSESSED
from tests import patient_data


def test_every_bad_contact_is_named_by_position_and_problem_never_by_value() -> None:
    typed = f"astrid@, {patient_data.EMAILS[0]}, 08-123 456 78, x"
    with pytest.raises(InvalidContacts) as refused:
        parse_contacts(typed)
    assert [(r.position, r.problem) for r in refused.value.refused] == [
        (1, ContactProblem.INVALID),
        (3, ContactProblem.NOT_MOBILE),
        (4, ContactProblem.INVALID),
    ]
    assert refused.value.message.startswith("contact 1 is not a valid e-mail address or phone number; contact 3")
    assert "astrid" not in refused.value.message


def test_the_console_words_every_reason_the_anonymizer_gives() -> None:
    assert set(REASONS) == {code.value for code in ReasonCode} | {NOT_ASSESSED}
    assert all(sv and en and sv != en for sv, en in REASONS.values())
