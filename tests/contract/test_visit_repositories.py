"""The in-memory visits and messages behave as the DynamoDB ones (on moto)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.deliveries import Delivery, DeliveryStatus
from chalicelib.domain.errors import Conflict, NotFound, StaleWrite
from chalicelib.domain.links import new_token, token_hash
from chalicelib.domain.visits import (
    Attachment,
    Message,
    RejectReason,
    Role,
    Visit,
    VisitStatus,
    new_attachment_id,
    new_visit_id,
    visit_expiry,
)
from chalicelib.services.deps import Deps
from chalicelib.services.versioned import update
from tests import patient_data
from tests.fakes import FakeClock

pytestmark = pytest.mark.contract
CLINIC = "cl_00000000000000a1"


def a_visit() -> Visit:
    now = FakeClock().now()
    return Visit(
        visit_id=new_visit_id(),
        clinic_id=CLINIC,
        created_by="dr.berg",
        created_at=now,
        expires_at=visit_expiry(now, 30),
        link_hash=token_hash(new_token()),
        deliveries=(
            Delivery(1, Contact(ContactKind.EMAIL, patient_data.EMAILS[0])),
            Delivery(2, Contact(ContactKind.SMS, patient_data.PHONES[0]), DeliveryStatus.FAILED, "Throttling", 2),
        ),
        link_nonce="0123456789abcdef0123456789abcdef",
        language="en",
    )


def message(visit: Visit, seq: int, **kwargs: object) -> Message:
    return Message(
        visit_id=visit.visit_id,
        clinic_id=visit.clinic_id,
        seq=seq,
        sender=Role.PATIENT,
        sent_at=visit.created_at + timedelta(seconds=seq),
        expires_at=visit.expires_at,
        **kwargs,  # type: ignore[arg-type]
    )


def test_visits_round_trip_by_id_and_link(real_or_fake: Deps) -> None:
    visit = a_visit()
    real_or_fake.visits.add(visit)
    assert real_or_fake.visits.get(visit.visit_id) == visit
    assert real_or_fake.visits.find_by_link(visit.link_hash) == visit
    with pytest.raises(Conflict):
        real_or_fake.visits.add(visit)
    with pytest.raises(NotFound):
        real_or_fake.visits.get(new_visit_id())
    with pytest.raises(NotFound):
        real_or_fake.visits.find_by_link(token_hash(new_token()))


def test_saving_records_deliveries_and_closing(real_or_fake: Deps) -> None:
    visit = a_visit()
    real_or_fake.visits.add(visit)
    sent = replace(visit, deliveries=(replace(visit.deliveries[0], status=DeliveryStatus.SENT, message_id="m-1"),))
    stored = real_or_fake.visits.save(sent)
    assert stored == replace(sent, version=1)
    assert real_or_fake.visits.get(visit.visit_id) == stored
    closed = real_or_fake.visits.save(stored.close("dr.holm", sent.created_at + timedelta(hours=1), 30))
    assert real_or_fake.visits.get(visit.visit_id) == closed
    assert closed.version == 2
    with pytest.raises(NotFound):
        real_or_fake.visits.save(replace(visit, visit_id=new_visit_id()))


def test_a_delivery_outcome_read_before_a_close_does_not_reopen_the_visit(real_or_fake: Deps) -> None:
    visit = a_visit()
    real_or_fake.visits.add(visit)
    real_or_fake.visits.save(visit.close("dr.holm", visit.created_at, 30))  # while the link goes out
    delivered = replace(visit, deliveries=(replace(visit.deliveries[0], status=DeliveryStatus.SENT),))
    with pytest.raises(StaleWrite):
        real_or_fake.visits.save(delivered)  # read before the close: refused, not written over it
    merged = update(
        real_or_fake.visits, visit.visit_id, lambda current: replace(current, deliveries=delivered.deliveries)
    )
    assert merged.status is VisitStatus.CLOSED
    assert merged.deliveries == delivered.deliveries


def test_message_numbers_count_up_while_open_and_stop_when_closed(real_or_fake: Deps) -> None:
    visit = a_visit()
    real_or_fake.visits.add(visit)
    assert [real_or_fake.visits.next_seq(visit.visit_id) for _ in range(3)] == [1, 2, 3]
    real_or_fake.visits.save(real_or_fake.visits.get(visit.visit_id).close("dr.berg", visit.created_at, 30))
    with pytest.raises(Conflict):
        real_or_fake.visits.next_seq(visit.visit_id)
    with pytest.raises((Conflict, NotFound)):
        real_or_fake.visits.next_seq(new_visit_id())


def test_messages_page_in_order_within_their_visit(real_or_fake: Deps) -> None:
    visit, other = a_visit(), a_visit()
    for seq in (3, 1, 2, 4):
        real_or_fake.messages.add(message(visit, seq, text=f"<b>hej</b> {seq}"))
    real_or_fake.messages.add(message(other, 1, text="other visit"))
    assert [m.seq for m in real_or_fake.messages.after(visit.visit_id, 0, 10)] == [1, 2, 3, 4]
    assert [m.seq for m in real_or_fake.messages.after(visit.visit_id, 1, 2)] == [2, 3]
    assert real_or_fake.messages.after(visit.visit_id, 4, 10) == []
    assert real_or_fake.messages.after(visit.visit_id, 0, 1)[0] == message(visit, 1, text="<b>hej</b> 1")
    with pytest.raises(Conflict):
        real_or_fake.messages.add(message(visit, 2, text="again"))


def test_attachments_are_found_by_id_updated_and_expire_with_the_visit(real_or_fake: Deps) -> None:
    visit = a_visit()
    attachment = Attachment(new_attachment_id(), "röntgen bild.jpg", "image/jpeg", 1234)
    real_or_fake.messages.add(message(visit, 1, text="hej"))
    real_or_fake.messages.add(message(visit, 2, attachment=attachment))
    found = real_or_fake.messages.attachment(visit.visit_id, attachment.attachment_id)
    assert found == message(visit, 2, attachment=attachment)
    assert real_or_fake.messages.attachments(visit.visit_id) == [found]
    with pytest.raises(NotFound):
        real_or_fake.messages.attachment(visit.visit_id, new_attachment_id())

    ready = attachment.ready("image/jpeg", "image", 1200, has_preview=True)
    real_or_fake.messages.save_attachment(found, ready)
    found = real_or_fake.messages.attachment(visit.visit_id, attachment.attachment_id)
    assert found.attachment == ready
    saved = ready.saved("dr.berg", visit.created_at)
    real_or_fake.messages.save_attachment(found, saved)
    assert real_or_fake.messages.attachment(visit.visit_id, attachment.attachment_id).attachment == saved
    with pytest.raises(NotFound):
        real_or_fake.messages.save_attachment(message(visit, 1, text="hej"), saved)
    with pytest.raises(NotFound):
        real_or_fake.messages.save_attachment(
            message(visit, 2, attachment=Attachment(new_attachment_id(), "x.jpg", "image/jpeg", 1)), saved
        )

    later = visit.expires_at + timedelta(days=3)
    real_or_fake.messages.expire(visit.visit_id, later)
    assert {m.expires_at for m in real_or_fake.messages.after(visit.visit_id, 0, 10)} == {later}


def test_a_verdict_is_written_only_onto_the_message_as_it_was_read(real_or_fake: Deps) -> None:
    visit = a_visit()
    attachment = Attachment(new_attachment_id(), "film.mov", "video/quicktime", 1234)
    real_or_fake.messages.add(message(visit, 1, attachment=attachment))
    read = real_or_fake.messages.attachment(visit.visit_id, attachment.attachment_id)
    ready = attachment.ready("video/quicktime", "video", 1200, has_preview=True)

    # Another run judged the file since it was read.
    real_or_fake.messages.save_attachment(read, attachment.rejected(RejectReason.AUDIO))
    with pytest.raises(StaleWrite):
        real_or_fake.messages.save_attachment(read, ready)

    # The visit was closed since it was read: every message has a new expiry.
    fresh = real_or_fake.messages.attachment(visit.visit_id, attachment.attachment_id)
    real_or_fake.messages.expire(visit.visit_id, visit.created_at + timedelta(days=30))
    with pytest.raises(StaleWrite):
        real_or_fake.messages.save_attachment(fresh, ready)
    stored = real_or_fake.messages.attachment(visit.visit_id, attachment.attachment_id)
    assert stored.attachment is not None
    assert stored.attachment.reason is RejectReason.AUDIO  # neither stale write changed anything


def test_two_clinicians_marking_a_file_saved_at_once_cannot_both_win(real_or_fake: Deps) -> None:
    visit = a_visit()
    attachment = Attachment(new_attachment_id(), "bild.jpg", "image/jpeg", 1234).ready(
        "image/jpeg", "image", 1200, has_preview=True
    )
    real_or_fake.messages.add(message(visit, 1, attachment=attachment))
    read = real_or_fake.messages.attachment(visit.visit_id, attachment.attachment_id)
    real_or_fake.messages.save_attachment(read, attachment.saved("dr.berg", visit.created_at))
    with pytest.raises(StaleWrite):
        real_or_fake.messages.save_attachment(read, attachment.saved("dr.holm", visit.created_at))
    stored = real_or_fake.messages.attachment(visit.visit_id, attachment.attachment_id).attachment
    assert stored is not None
    assert stored.saved_by == "dr.berg"
