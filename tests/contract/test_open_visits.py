"""The clinic-wide list of open visits, the clinician's read mark and the unread count: fake and DynamoDB alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.visits import Role
from chalicelib.services.deps import Deps
from chalicelib.services.versioned import update
from tests.contract.test_visit_repositories import a_visit, message

pytestmark = pytest.mark.contract


def test_open_visits_of_one_clinic_newest_first_and_closed_ones_leave_the_list(real_or_fake: Deps) -> None:
    first = a_visit()
    second = replace(a_visit(), created_at=first.created_at + timedelta(minutes=5))
    other_clinic = replace(a_visit(), clinic_id="cl_00000000000000b2")
    for visit in (first, second, other_clinic):
        real_or_fake.visits.add(visit)

    listed = real_or_fake.visits.open_for_clinic(first.clinic_id, 10)
    assert [v.visit_id for v in listed] == [second.visit_id, first.visit_id]
    assert listed[0] == second
    assert [v.visit_id for v in real_or_fake.visits.open_for_clinic(first.clinic_id, 1)] == [second.visit_id]

    now = first.created_at + timedelta(hours=1)
    update(real_or_fake.visits, second.visit_id, lambda v: v.close("dr.berg", now, 30))
    assert [v.visit_id for v in real_or_fake.visits.open_for_clinic(first.clinic_id, 10)] == [first.visit_id]
    assert [v.visit_id for v in real_or_fake.visits.open_for_clinic(other_clinic.clinic_id, 10)] == [
        other_clinic.visit_id
    ]


def test_the_read_mark_only_rises_and_survives_saves(real_or_fake: Deps) -> None:
    visit = a_visit()
    real_or_fake.visits.add(visit)
    assert real_or_fake.visits.get(visit.visit_id).clinician_read_seq == 0
    real_or_fake.visits.mark_read(visit.visit_id, 3)
    real_or_fake.visits.mark_read(visit.visit_id, 2)  # an older page's answer never lowers it
    assert real_or_fake.visits.get(visit.visit_id).clinician_read_seq == 3

    # A versioned save made from a read before the mark does not undo it.
    update(real_or_fake.visits, visit.visit_id, lambda v: replace(v, language="sv"))
    stored = real_or_fake.visits.get(visit.visit_id)
    assert stored.clinician_read_seq == 3
    assert stored.version == 1
    real_or_fake.visits.mark_read("vi_00000000000000000000", 1)  # no such visit: nothing happens


def test_patient_messages_after_a_number_are_counted(real_or_fake: Deps) -> None:
    visit = a_visit()
    real_or_fake.visits.add(visit)
    for seq, sender in enumerate((Role.PATIENT, Role.CLINICIAN, Role.PATIENT, Role.PATIENT), start=1):
        real_or_fake.messages.add(replace(message(visit, seq, text=f"m{seq}"), sender=sender))
    assert real_or_fake.messages.count_from_patient(visit.visit_id, 0) == 3
    assert real_or_fake.messages.count_from_patient(visit.visit_id, 2) == 2
    assert real_or_fake.messages.count_from_patient(visit.visit_id, 4) == 0
