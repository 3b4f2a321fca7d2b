"""A visit link that did not reach a contact is sent again, the same link, until it does or cannot."""

from __future__ import annotations

import re

import pytest

from chalicelib.domain.deliveries import DeliveryStatus
from chalicelib.services import accounts, visits
from chalicelib.services.deps import Deps
from tests import patient_data
from tests.fakes import FakeJobQueue, FakeMailer, FakeSmsSender

CONTACTS = f"{patient_data.EMAILS[0]}, {patient_data.PHONES[0]}"


def fakes(deps: Deps) -> tuple[FakeMailer, FakeSmsSender, FakeJobQueue]:
    assert isinstance(deps.mailer, FakeMailer)
    assert isinstance(deps.sms, FakeSmsSender)
    assert isinstance(deps.jobs, FakeJobQueue)
    return deps.mailer, deps.sms, deps.jobs


def start(deps: Deps) -> str:
    clinic, _ = accounts.create_clinic("Kliniken Väst", deps)
    return visits.create_visit(visits.clinician(clinic.clinic_id, "dr.berg"), CONTACTS, deps).visit_id


def test_a_transient_failure_is_retried_with_the_same_link(deps: Deps) -> None:
    mailer, sms, jobs = fakes(deps)
    sms.failing.add(patient_data.PHONES[0])
    visit_id = start(deps)
    assert jobs.sent == [("delivery", {"visit_id": visit_id})]
    with pytest.raises(visits.VisitDeliveriesPending):
        visits.redeliver(visit_id, deps)
    sms.failing.clear()
    visit = visits.redeliver(visit_id, deps)
    assert [d.status for d in visit.deliveries] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert [d.attempts for d in visit.deliveries] == [1, 3]
    (email,) = mailer.sent  # the e-mail went once
    (text,) = sms.sent
    link = re.search(r"/v/[A-Za-z0-9_-]+", email.text)
    assert link is not None
    assert link.group(0) in text[1]
    assert visits.open_link(link.group(0).rsplit("/", 1)[1], deps).visit_id == visit_id


def test_final_failures_and_opt_outs_are_not_retried(deps: Deps) -> None:
    mailer, sms, jobs = fakes(deps)
    mailer.failing.add(patient_data.EMAILS[0])
    sms.opted_out.add(patient_data.PHONES[0])
    visit_id = start(deps)
    assert jobs.sent == []
    visit = visits.redeliver(visit_id, deps)
    assert [d.status for d in visit.deliveries] == [DeliveryStatus.FAILED, DeliveryStatus.OPTED_OUT]
    assert visit.deliveries[0].reason == "MessageRejected"


def test_retries_stop_after_three_attempts(deps: Deps) -> None:
    _, sms, _ = fakes(deps)
    sms.failing.add(patient_data.PHONES[0])
    visit_id = start(deps)
    with pytest.raises(visits.VisitDeliveriesPending):
        visits.redeliver(visit_id, deps)  # the second attempt
    visit = visits.redeliver(visit_id, deps)  # the third was the last: nothing is pending any more
    assert visit.deliveries[1].status is DeliveryStatus.FAILED
    assert visit.deliveries[1].attempts == 3
