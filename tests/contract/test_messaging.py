"""The fake mailer and SMS sender behave as SES and SNS do (on moto): what is sent, what is refused."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from chalicelib.domain.errors import DeliveryFailed
from chalicelib.services.deps import Deps
from chalicelib.services.ports import Email
from chalicelib.settings import settings
from tests import patient_data
from tests.fakes import FakeMailer, FakeSmsSender

pytestmark = pytest.mark.contract

# moto treats every number ending in 99 as opted out; the fake is told the same number.
OPTED_OUT = "+46701234599"


def email(to: str) -> Email:
    return Email(
        to=to,
        sender_name="Kliniken Väst",
        subject="Ditt besök / Your visit",
        text="Öppna https://share.example.org/v/abc",
        html='<html><body><a href="https://share.example.org/v/abc">Öppna</a></body></html>',
    )


def sent_emails(deps: Deps) -> list[tuple[str, list[str], str]]:
    """(source, recipients, subject) of every e-mail sent, from whichever side recorded it."""
    if isinstance(deps.mailer, FakeMailer):
        return [(e.sender_name, [e.to], e.subject) for e in deps.mailer.sent]
    backend = ses_backends[DEFAULT_ACCOUNT_ID][settings().region]
    return [
        (str(make_header(decode_header(parseaddr(m.source)[0]))), m.destinations["ToAddresses"], m.subject)
        for m in backend.sent_messages
    ]


def sent_texts(deps: Deps) -> list[tuple[str, str]]:
    if isinstance(deps.sms, FakeSmsSender):
        return list(deps.sms.sent)
    return list(sns_backends[DEFAULT_ACCOUNT_ID][settings().region].sms_messages.values())


def test_an_email_is_sent_under_the_clinics_name(real_or_fake: Deps) -> None:
    message_id = real_or_fake.mailer.send(email(patient_data.EMAILS[0]))
    assert message_id
    assert sent_emails(real_or_fake) == [("Kliniken Väst", [patient_data.EMAILS[0]], "Ditt besök / Your visit")]


def test_an_address_ses_refuses_raises_delivery_failed_with_its_code(real_or_fake: Deps) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        real_or_fake.mailer.send(email("astrid.lindqvist@"))
    assert failed.value.code == "InvalidParameterValue"
    assert sent_emails(real_or_fake) == []


def test_opted_out_numbers_are_reported(real_or_fake: Deps) -> None:
    if isinstance(real_or_fake.sms, FakeSmsSender):
        real_or_fake.sms.opted_out.add(OPTED_OUT)
    assert real_or_fake.sms.is_opted_out(OPTED_OUT) is True
    assert real_or_fake.sms.is_opted_out(patient_data.PHONES[0]) is False


def test_a_text_is_sent_to_an_e164_number(real_or_fake: Deps) -> None:
    assert real_or_fake.sms.send(patient_data.PHONES[0], "Kliniken Väst: https://share.example.org/v/abc")
    assert sent_texts(real_or_fake) == [(patient_data.PHONES[0], "Kliniken Väst: https://share.example.org/v/abc")]


@pytest.mark.parametrize("number", [patient_data.PHONES[1], "+46 70 123"])
def test_a_number_not_in_e164_is_refused(real_or_fake: Deps, number: str) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        real_or_fake.sms.send(number, "hello")
    assert failed.value.code == "InvalidParameter"
    assert sent_texts(real_or_fake) == []
