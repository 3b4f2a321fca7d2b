"""The visit's own rules, with time passed in, and the signed values the chat's sessions are made of."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import sessions
from chalicelib.domain.errors import Conflict, Gone, InvalidInput, TooLarge, Unauthenticated, UnsupportedMediaType
from chalicelib.domain.keys import KeyRing
from chalicelib.domain.sessions import Purpose
from chalicelib.domain.visits import (
    UPLOAD_WINDOW,
    Attachment,
    AttachmentStatus,
    RejectReason,
    Visit,
    attachment_filename,
    clinician_id,
    declared_size,
    declared_type,
    parse_upload_key,
    upload_form_lifetime,
    upload_key,
    visit_expiry,
)
from tests.fakes import FakeClock

NOW = FakeClock().now()
KEY = KeyRing(b"k" * 32)


def a_visit() -> Visit:
    return Visit("vi_1", "cl_1", "dr.berg", NOW, visit_expiry(NOW, 30), "hash")


def test_an_open_visit_lives_30_days_plus_the_retention() -> None:
    visit = a_visit()
    visit.ensure_open(NOW + timedelta(days=59))
    with pytest.raises(Gone):
        visit.ensure_readable(NOW + timedelta(days=60))


def test_closing_starts_the_retention_and_is_idempotent() -> None:
    closed = a_visit().close("dr.holm", NOW + timedelta(days=2), retention_days=7)
    assert (closed.closed_by, closed.expires_at) == ("dr.holm", NOW + timedelta(days=9))
    assert closed.close("dr.berg", NOW + timedelta(days=3), 7) is closed
    closed.ensure_readable(NOW + timedelta(days=8))
    with pytest.raises(Conflict):
        closed.ensure_open(NOW + timedelta(days=3))
    with pytest.raises(Gone):
        closed.ensure_readable(NOW + timedelta(days=9))


def test_an_upload_arriving_after_the_close_is_not_the_visits() -> None:
    visit = a_visit()
    assert visit.took_upload(NOW + timedelta(days=20))  # open: any time
    closed = visit.close("dr.holm", NOW + timedelta(hours=1), retention_days=30)
    assert closed.took_upload(NOW + timedelta(minutes=59, seconds=59))
    assert not closed.took_upload(NOW + timedelta(hours=1))
    assert not closed.took_upload(NOW + timedelta(hours=1, milliseconds=1))


@pytest.mark.parametrize(
    ("size", "seconds"),
    [(1, 61), (32 * 1024, 61), (32 * 1024 + 1, 62), (2 * 1024 * 1024, 124), (10 * 1024 * 1024, 380)],
)
def test_an_upload_form_lasts_a_minute_plus_the_size_over_a_weak_uplink(size: int, seconds: int) -> None:
    assert upload_form_lifetime(size) == timedelta(seconds=seconds)


def test_a_file_that_never_arrives_settles_as_rejected() -> None:
    pending = Attachment("at_1", "a.jpg", "image/jpeg", 10)
    assert pending.settled(NOW, NOW + UPLOAD_WINDOW - timedelta(seconds=1)) is pending
    settled = pending.settled(NOW, NOW + UPLOAD_WINDOW)
    assert (settled.status, settled.reason) == (AttachmentStatus.REJECTED, RejectReason.NOT_RECEIVED)
    ready = pending.ready("image/jpeg", "image", 9, has_preview=True)
    assert ready.settled(NOW, NOW + timedelta(days=1)) is ready


def test_only_kept_files_can_be_marked_saved_and_the_first_time_counts() -> None:
    pending = Attachment("at_1", "a.pdf", "application/pdf", 10)
    with pytest.raises(Conflict):
        pending.saved("dr.berg", NOW)
    ready = pending.ready("application/pdf", "document", 10, has_preview=False)
    saved = ready.saved("dr.berg", NOW)
    assert saved.saved("dr.holm", NOW + timedelta(hours=1)) is saved
    assert not saved.inline


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("foto.jpg", "foto.jpg"),
        ("C:\\Users\\astrid\\Bilder\\foto.jpg", "foto.jpg"),
        ("../../etc/passwd", "passwd"),
        ("bild\u202e gpj.exe", "bild gpj.exe"),  # no right-to-left override to disguise the extension
        ("A\u030a.png", "Å.png"),  # NFC
    ],
)
def test_filenames_keep_the_name_only(raw: str, name: str) -> None:
    assert attachment_filename(raw) == name


@pytest.mark.parametrize("raw", ["", "   ", "dir/", "..", "\x00", "x" * 256, 7])
def test_bad_filenames(raw: object) -> None:
    with pytest.raises(InvalidInput):
        attachment_filename(raw)


def test_declared_sizes_and_types() -> None:
    assert declared_size(10 * 1024 * 1024) == 10 * 1024 * 1024
    with pytest.raises(TooLarge):
        declared_size(10 * 1024 * 1024 + 1)
    for bad in (0, -1, True, 1.5, "10"):
        with pytest.raises(InvalidInput):
            declared_size(bad)
    assert declared_type("Image/JPG; charset=binary") == "image/jpeg"
    assert declared_type("video/x-m4v") == "video/mp4"
    with pytest.raises(UnsupportedMediaType, match="audio files cannot be sent"):
        declared_type("audio/ogg")
    with pytest.raises(UnsupportedMediaType, match="this type of file cannot be sent"):
        declared_type("application/octet-stream")


@pytest.mark.parametrize("raw", ["dr.berg", "SE2321000016-1234", "anna@clinic.se", "x"])
def test_clinician_ids(raw: str) -> None:
    assert clinician_id(raw) == raw


@pytest.mark.parametrize("raw", [None, "", "a b", "-x", "x" * 65, "å"])
def test_bad_clinician_ids(raw: str | None) -> None:
    with pytest.raises(InvalidInput, match="X-Clinician"):
        clinician_id(raw)


def test_upload_keys_round_trip_and_nothing_else_parses() -> None:
    key = upload_key("cl_0a", "vi_0b", "at_0c")
    assert key == "attachments/cl_0a/vi_0b/at_0c/upload"
    ref = parse_upload_key(key)
    assert ref is not None
    assert (ref.clinic_id, ref.visit_id, ref.attachment_id) == ("cl_0a", "vi_0b", "at_0c")
    for other in (key.replace("upload", "file"), key + "x", "attachments/cl_0a/vi_0b/at_0c/preview.jpg"):
        assert parse_upload_key(other) is None


def test_signed_values_round_trip_until_they_expire() -> None:
    value = sessions.sign(Purpose.PATIENT_SESSION, {"visit": "vi_1"}, KEY, NOW + timedelta(hours=1))
    assert sessions.verify(value, Purpose.PATIENT_SESSION, KEY, NOW) == {"visit": "vi_1"}
    with pytest.raises(Unauthenticated):
        sessions.verify(value, Purpose.PATIENT_SESSION, KEY, NOW + timedelta(hours=1))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),
        lambda v: "eyJ2aXNpdCI6InZpXzIifQ" + v[v.index(".") :],
        lambda v: v.split(".")[0],
        lambda v: "",
    ],
)
def test_tampered_values_are_refused(tamper: object) -> None:
    value = sessions.sign(Purpose.PATIENT_SESSION, {"visit": "vi_1"}, KEY, NOW + timedelta(hours=1))
    with pytest.raises(Unauthenticated):
        sessions.verify(tamper(value), Purpose.PATIENT_SESSION, KEY, NOW)  # type: ignore[operator]


def test_a_value_signed_for_one_purpose_or_key_is_refused_for_another() -> None:
    ticket = sessions.sign(Purpose.CLINICIAN_TICKET, {"visit": "vi_1"}, KEY, NOW + timedelta(minutes=5))
    with pytest.raises(Unauthenticated):
        sessions.verify(ticket, Purpose.CLINICIAN_SESSION, KEY, NOW)
    with pytest.raises(Unauthenticated):
        sessions.verify(ticket, Purpose.CLINICIAN_TICKET, KeyRing(b"other" * 8), NOW)
