"""The attachment worker's check on the stored bytes, with real files made here, on in-memory fakes."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.local import LambdaContext
from PIL import Image

from chalicelib import wiring
from chalicelib.domain.visits import (
    Attachment,
    AttachmentStatus,
    Message,
    RejectReason,
    file_key,
    preview_key,
    upload_key,
)
from chalicelib.services import attachments, visits
from chalicelib.services.accounts import create_clinic
from chalicelib.services.deps import Deps
from tests import patient_data
from tests.fakes import FakeClock, InMemoryMessageRepository, InMemoryObjectStore, fake_deps
from tests.unit.media import samples

MB = 1024 * 1024
BUCKET = "chat-bucket"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return samples.chat_files(tmp_path_factory.mktemp("samples"))


def objects(deps: Deps) -> InMemoryObjectStore:
    assert isinstance(deps.objects, InMemoryObjectStore)
    return deps.objects


def announce_and_upload(deps: Deps, name: str, declared: str, body: bytes) -> tuple[str, str, str]:
    """A patient announces a file and "uploads" it (to the fake store); returns (visit, attachment, key)."""
    clinic, _ = create_clinic("Kliniken Väst", deps)
    visit = visits.create_visit(visits.clinician(clinic.clinic_id, "dr.berg"), patient_data.EMAILS[0], deps)
    patient = visits.patient(visit)
    requested = attachments.request_attachment(
        patient, visit.visit_id, name, declared, min(len(body), 10 * MB) or 1, deps
    )
    key = requested.upload.fields["key"]
    objects(deps).put(BUCKET, key, body, declared)
    assert requested.message.attachment is not None
    return visit.visit_id, requested.message.attachment.attachment_id, key


@pytest.mark.parametrize(
    ("sample", "name", "declared", "status", "reason", "family"),
    [
        ("jpeg", "foto.jpg", "image/jpeg", AttachmentStatus.READY, None, "image"),
        ("png", "skärm.png", "image/png", AttachmentStatus.READY, None, "image"),
        ("mp4", "film.mp4", "video/mp4", AttachmentStatus.READY, None, "video"),
        ("pdf", "remiss.pdf", "application/pdf", AttachmentStatus.READY, None, "document"),
        ("10mb", "stor.pdf", "application/pdf", AttachmentStatus.READY, None, "document"),
        ("11mb", "för-stor.pdf", "application/pdf", AttachmentStatus.REJECTED, RejectReason.TOO_LARGE, None),
        ("wav", "röst.jpg", "image/jpeg", AttachmentStatus.REJECTED, RejectReason.AUDIO, None),
        ("mp3", "låt.jpg", "image/jpeg", AttachmentStatus.REJECTED, RejectReason.AUDIO, None),
        ("mp3", "låt.pdf", "application/pdf", AttachmentStatus.REJECTED, RejectReason.AUDIO, None),
        ("pdf", "bild.jpg", "image/jpeg", AttachmentStatus.READY, None, "document"),
    ],
)
def test_each_file_is_judged_by_its_bytes(
    deps: Deps,
    files: dict[str, bytes],
    sample: str,
    name: str,
    declared: str,
    status: AttachmentStatus,
    reason: RejectReason | None,
    family: str | None,
) -> None:
    visit_id, aid, key = announce_and_upload(deps, name, declared, files[sample])
    message = attachments.check_upload(key, deps.clock.now(), deps)
    assert message is not None
    assert message.attachment is not None
    assert (message.attachment.status, message.attachment.reason, message.attachment.family) == (status, reason, family)
    stored = deps.messages.attachment(visit_id, aid).attachment
    assert stored == message.attachment
    clinic = deps.visits.get(visit_id).clinic_id
    assert objects(deps).keys(BUCKET, "attachments/") == (
        sorted(
            [file_key(clinic, visit_id, aid)]
            + ([preview_key(clinic, visit_id, aid)] if family in ("image", "video") else [])
        )
        if status is AttachmentStatus.READY
        else []
    ), "the upload is always deleted; a refused file leaves nothing behind"


def test_a_jpeg_loses_gps_and_every_exif_field_and_is_turned_upright(deps: Deps, files: dict[str, bytes]) -> None:
    visit_id, aid, key = announce_and_upload(deps, "foto.jpg", "image/jpeg", files["jpeg"])
    message = attachments.check_upload(key, deps.clock.now(), deps)
    assert message is not None
    assert message.attachment is not None
    clinic = deps.visits.get(visit_id).clinic_id
    body, content_type = objects(deps).objects[(BUCKET, file_key(clinic, visit_id, aid))]
    assert content_type == "image/jpeg"
    assert message.attachment.size == len(body)
    picture = Image.open(io.BytesIO(body))
    assert dict(picture.getexif()) == {}
    assert "exif" not in picture.info
    assert "xmp" not in picture.info
    assert picture.size == (40, 80)  # 80×40 stored with orientation 6 (turn 90°): upright now
    for marker in (samples.GPS_DATUM, samples.CAMERA_OWNER):
        assert marker.encode() not in body
    preview, preview_type = objects(deps).objects[(BUCKET, preview_key(clinic, visit_id, aid))]
    assert preview_type == "image/jpeg"
    assert Image.open(io.BytesIO(preview)).format == "JPEG"


def test_a_png_loses_its_text_chunks(deps: Deps, files: dict[str, bytes]) -> None:
    visit_id, aid, key = announce_and_upload(deps, "skärm.png", "image/png", files["png"])
    attachments.check_upload(key, deps.clock.now(), deps)
    clinic = deps.visits.get(visit_id).clinic_id
    body, content_type = objects(deps).objects[(BUCKET, file_key(clinic, visit_id, aid))]
    assert content_type == "image/png"
    assert samples.CAMERA_OWNER.encode() not in body


def test_a_video_gets_a_poster_frame_and_keeps_its_frames(deps: Deps, files: dict[str, bytes], tmp_path: Path) -> None:
    visit_id, aid, key = announce_and_upload(deps, "film.mp4", "video/mp4", files["mp4"])
    attachments.check_upload(key, deps.clock.now(), deps)
    clinic = deps.visits.get(visit_id).clinic_id
    served, content_type = objects(deps).objects[(BUCKET, file_key(clinic, visit_id, aid))]
    assert content_type == "video/mp4"
    (tmp_path / "sent.mp4").write_bytes(files["mp4"])
    (tmp_path / "served.mp4").write_bytes(served)
    assert video_packets(tmp_path / "served.mp4") == video_packets(tmp_path / "sent.mp4")
    poster, _ = objects(deps).objects[(BUCKET, preview_key(clinic, visit_id, aid))]
    assert Image.open(io.BytesIO(poster)).size == (64, 48)


def test_a_phone_video_is_served_without_where_and_when_it_was_shot(deps: Deps, tmp_path: Path) -> None:
    sent = samples.phone_video(tmp_path / "sent.mov")
    visit_id, aid, key = announce_and_upload(deps, "IMG_0042.MOV", "video/quicktime", sent)
    message = attachments.check_upload(key, deps.clock.now(), deps)
    assert message is not None
    assert message.attachment is not None
    assert (message.attachment.status, message.attachment.mime) == (AttachmentStatus.READY, "video/quicktime")
    clinic = deps.visits.get(visit_id).clinic_id
    served, _ = objects(deps).objects[(BUCKET, file_key(clinic, visit_id, aid))]
    assert message.attachment.size == len(served)
    for marker in (samples.VIDEO_POSITION, samples.VIDEO_MAKE, samples.VIDEO_MODEL):
        assert marker.encode() in sent
        assert marker.encode() not in served
    (tmp_path / "served.mov").write_bytes(served)
    assert video_packets(tmp_path / "served.mov") == video_packets(tmp_path / "sent.mov")


def video_packets(path: Path) -> list[bytes]:
    import av

    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]


def test_a_broken_picture_is_refused_as_unreadable(deps: Deps, files: dict[str, bytes]) -> None:
    _, _, key = announce_and_upload(deps, "trasig.jpg", "image/jpeg", files["jpeg"][:200])
    message = attachments.check_upload(key, deps.clock.now(), deps)
    assert message is not None
    assert message.attachment is not None
    assert message.attachment.reason is RejectReason.UNREADABLE


def test_an_empty_upload_is_refused(deps: Deps) -> None:
    _, _, key = announce_and_upload(deps, "tom.pdf", "application/pdf", b"")
    message = attachments.check_upload(key, deps.clock.now(), deps)
    assert message is not None
    assert message.attachment is not None
    assert message.attachment.reason is RejectReason.EMPTY


def test_a_second_post_after_the_check_is_deleted_unread(deps: Deps, files: dict[str, bytes]) -> None:
    visit_id, aid, key = announce_and_upload(deps, "remiss.pdf", "application/pdf", files["pdf"])
    attachments.check_upload(key, deps.clock.now(), deps)
    clinic = deps.visits.get(visit_id).clinic_id
    served = objects(deps).objects[(BUCKET, file_key(clinic, visit_id, aid))]
    objects(deps).put(BUCKET, key, files["wav"], "application/pdf")  # the same form, used again
    message = attachments.check_upload(key, deps.clock.now(), deps)
    assert message is not None
    assert message.attachment is not None
    assert message.attachment.status is AttachmentStatus.READY
    assert objects(deps).objects[(BUCKET, file_key(clinic, visit_id, aid))] == served
    assert (BUCKET, key) not in objects(deps).objects
    assert attachments.check_upload(key, deps.clock.now(), deps) is not None  # a redelivered event finds nothing to do


def test_keys_we_never_handed_out_are_left_alone_or_cleared(deps: Deps, clock: FakeClock) -> None:
    objects(deps).put(BUCKET, "attachments/x/elsewhere.txt", b"x", "text/plain")
    assert attachments.check_upload("attachments/x/elsewhere.txt", deps.clock.now(), deps) is None
    assert objects(deps).keys(BUCKET) == ["attachments/x/elsewhere.txt"]
    stray = upload_key("cl_00000000000000a1", "vi_00000000000000000001", "at_00000000000000000001")
    objects(deps).put(BUCKET, stray, b"x", "text/plain")
    assert attachments.check_upload(stray, deps.clock.now(), deps) is None
    assert (BUCKET, stray) not in objects(deps).objects


def test_an_upload_after_the_visit_ended_is_deleted(deps: Deps, clock: FakeClock, files: dict[str, bytes]) -> None:
    _, _, key = announce_and_upload(deps, "remiss.pdf", "application/pdf", files["pdf"])
    clock.advance(days=61)
    message = attachments.check_upload(key, deps.clock.now(), deps)
    assert message is not None
    assert message.attachment is not None
    assert message.attachment.status is AttachmentStatus.PENDING
    assert (BUCKET, key) not in objects(deps).objects


def test_expired_rows_files_are_deleted(deps: Deps, files: dict[str, bytes], tmp_path: Path) -> None:
    visit_id, aid, key = announce_and_upload(deps, "foto.jpg", "image/jpeg", files["jpeg"])
    attachments.check_upload(key, deps.clock.now(), deps)
    clinic = deps.visits.get(visit_id).clinic_id
    assert len(objects(deps).keys(BUCKET, "attachments/")) == 2
    attachments.delete_files(clinic, visit_id, aid, deps)
    assert objects(deps).keys(BUCKET, "attachments/") == []


@pytest.mark.parametrize(
    ("sent_as", "served_mime", "served_as"),
    [
        ("IMG_0001.HEIC", "image/jpeg", "IMG_0001.jpg"),  # cleaned HEIC is a JPEG
        ("a.heic.pdf", "application/pdf", "a.heic.pdf"),
        ("provsvar.hta", "text/plain", "provsvar.txt"),
        ("run.bat", "text/plain", "run.txt"),
        ("bild.png", "image/jpeg", "bild.jpg"),  # named by the bytes, not the sender
        ("rapport", "application/pdf", "rapport.pdf"),
        ("film.MOV", "video/quicktime", "film.mov"),
    ],
)
def test_downloads_are_named_by_the_type_served(sent_as: str, served_mime: str, served_as: str) -> None:
    from chalicelib.domain.visits import Attachment
    from chalicelib.media.attachment_types import family_of

    family = family_of(served_mime)
    kept = Attachment("at_1", sent_as, "text/plain", 9).ready(served_mime, family, 8, has_preview=False)
    assert attachments.download_name(kept) == served_as


def test_only_a_kept_file_has_a_served_name() -> None:
    from chalicelib.domain.errors import Conflict
    from chalicelib.domain.visits import Attachment

    with pytest.raises(Conflict):
        attachments.download_name(Attachment("at_2", "a.pdf", "application/pdf", 9))


def test_the_download_url_names_the_served_type_and_name(deps: Deps, files: dict[str, bytes]) -> None:
    visit_id, aid, key = announce_and_upload(deps, "provsvar.hta", "text/plain", b"Provsvar\n")
    attachments.check_upload(key, deps.clock.now(), deps)
    actor = visits.clinician(deps.visits.get(visit_id).clinic_id, "dr.berg")
    url = attachments.download_url(actor, visit_id, aid, deps)
    assert url.endswith("/file?expires=300&disposition=attachment:provsvar.txt&type=text%2Fplain")

    visit_id, aid, key = announce_and_upload(deps, "foto.jpg", "image/jpeg", files["jpeg"])
    attachments.check_upload(key, deps.clock.now(), deps)
    actor = visits.clinician(deps.visits.get(visit_id).clinic_id, "dr.berg")
    preview = attachments.download_url(actor, visit_id, aid, deps, preview=True)
    assert preview.endswith("/preview.jpg?expires=300&type=image%2Fjpeg")


# ------------------------------------------------------------------ uploads landing after the close


def close(deps: Deps, visit_id: str) -> None:
    visits.close_visit(visits.clinician(deps.visits.get(visit_id).clinic_id, "dr.holm"), visit_id, deps)


def test_an_upload_arriving_after_the_close_is_refused_and_deleted(
    deps: Deps, clock: FakeClock, files: dict[str, bytes]
) -> None:
    visit_id, aid, key = announce_and_upload(deps, "sår.jpg", "image/jpeg", files["jpeg"])
    clock.advance(minutes=2)
    close(deps, visit_id)
    arrived_at = clock.advance(seconds=1)

    message = attachments.check_upload(key, arrived_at, deps)

    assert message is not None
    assert message.attachment is not None
    assert (message.attachment.status, message.attachment.reason) == (
        AttachmentStatus.REJECTED,
        RejectReason.AFTER_CLOSE,
    )
    assert deps.messages.attachment(visit_id, aid).attachment == message.attachment
    assert objects(deps).keys(BUCKET, "attachments/") == [], "neither the upload nor a checked copy is kept"
    assert visits.kept_files(deps.visits.get(visit_id), deps) == []


def test_an_upload_that_arrived_before_the_close_is_kept_when_checked_after_it(
    deps: Deps, clock: FakeClock, files: dict[str, bytes]
) -> None:
    visit_id, _, key = announce_and_upload(deps, "sår.jpg", "image/jpeg", files["jpeg"])
    arrived_at = clock.advance(seconds=30)
    clock.advance(seconds=1)
    close(deps, visit_id)
    message = attachments.check_upload(key, arrived_at, deps)
    assert message is not None
    assert message.attachment is not None
    assert message.attachment.status is AttachmentStatus.READY


class ClosingOnFirstWrite(InMemoryMessageRepository):
    """The clinician closes the visit while the worker checks a file: after its reads, before its write."""

    def __init__(self, closing_at: datetime) -> None:
        super().__init__()
        self.closing_at, self.writes = closing_at, 0
        self.deps: Deps

    def save_attachment(self, read: Message, attachment: Attachment) -> None:
        self.writes += 1
        if self.writes == 1:
            clock = self.deps.clock
            assert isinstance(clock, FakeClock)
            clock.current = self.closing_at
            close(self.deps, read.visit_id)
        super().save_attachment(read, attachment)


@pytest.mark.parametrize(("closed_after_arrival", "status"), [(False, "rejected"), (True, "ready")])
def test_a_close_while_the_file_is_checked_is_seen_before_the_verdict_is_written(
    clock: FakeClock, files: dict[str, bytes], closed_after_arrival: bool, status: str
) -> None:
    start = clock.now()
    arrived_at = start + timedelta(seconds=10)
    closing_at = arrived_at + timedelta(seconds=1 if closed_after_arrival else -1)
    messages = ClosingOnFirstWrite(closing_at)
    with wiring.override(replace(fake_deps(clock), messages=messages)) as racing:
        messages.deps = racing
        visit_id, aid, key = announce_and_upload(racing, "sår.jpg", "image/jpeg", files["jpeg"])
        clock.current = arrived_at + timedelta(seconds=2)

        message = attachments.check_upload(key, arrived_at, racing)

        assert message is not None
        assert message.attachment is not None
        assert message.attachment.status.value == status
        assert messages.writes == 2, "the first verdict was written onto a message the close had changed"
        assert racing.messages.attachment(visit_id, aid).attachment == message.attachment
        clinic = racing.visits.get(visit_id).clinic_id
        kept = objects(racing).keys(BUCKET, "attachments/")
        assert kept == (
            [file_key(clinic, visit_id, aid), preview_key(clinic, visit_id, aid)] if status == "ready" else []
        )


def upload_event(key: str, event_time: str | None) -> dict[str, Any]:
    """An SQS message carrying S3's notification of one new object, as the attachment worker gets it."""
    record: dict[str, Any] = {"eventName": "ObjectCreated:Post", "s3": {"object": {"key": key}}}
    if event_time is not None:
        record["eventTime"] = event_time
    return {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r-1",
                "body": json.dumps({"Records": [record]}),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-north-1:000000000000:attachments",
                "awsRegion": "eu-north-1",
            }
        ]
    }


@pytest.mark.parametrize(
    ("event_time", "status"),
    [
        ("2026-11-23T09:00:59.999Z", "ready"),  # S3 had it before the close, at 09:01
        ("2026-11-23T09:01:00.001Z", "rejected"),
        ("2026-11-23T10:01:00", "rejected"),  # no zone: UTC, as S3 means it
        (None, "rejected"),  # no time: the worker's own, which is after the close
        ("yesterday", "rejected"),
    ],
)
def test_the_worker_judges_each_upload_by_the_time_s3_had_it(
    deps: Deps, clock: FakeClock, files: dict[str, bytes], event_time: str | None, status: str
) -> None:
    from chalicelib.workers.attachments import attachment_worker

    assert clock.now() == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    visit_id, aid, key = announce_and_upload(deps, "remiss.pdf", "application/pdf", files["pdf"])
    clock.advance(minutes=1)
    close(deps, visit_id)
    clock.advance(minutes=1)

    result = attachment_worker(upload_event(key, event_time), LambdaContext("attachment_worker", 512))

    assert result == {"batchItemFailures": []}
    attachment = deps.messages.attachment(visit_id, aid).attachment
    assert attachment is not None
    assert attachment.status.value == status
    assert attachment.reason is (None if status == "ready" else RejectReason.AFTER_CLOSE)


def test_the_upload_form_lasts_only_as_long_as_sending_the_file_needs(deps: Deps) -> None:
    clinic, _ = create_clinic("Kliniken Väst", deps)
    visit = visits.create_visit(visits.clinician(clinic.clinic_id, "dr.berg"), patient_data.EMAILS[0], deps)
    for size, seconds in ((1000, 61), (10 * MB, 380)):
        requested = attachments.request_attachment(
            visits.patient(visit), visit.visit_id, "a.pdf", "application/pdf", size, deps
        )
        assert requested.upload.fields["expires_s"] == str(seconds)


class SavedByAnotherFirst(InMemoryMessageRepository):
    """Another clinician marks the file saved between this one's read and write."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    def save_attachment(self, read: Message, attachment: Attachment) -> None:
        if attachment.saved_at is not None and not self.raced and read.attachment is not None:
            self.raced = True
            super().save_attachment(read, read.attachment.saved("dr.holm", read.sent_at))
        super().save_attachment(read, attachment)


def test_marking_saved_at_once_keeps_the_first_clinician(clock: FakeClock, files: dict[str, bytes]) -> None:
    deps = replace(fake_deps(clock), messages=SavedByAnotherFirst())
    with wiring.override(deps):
        visit_id, aid, key = announce_and_upload(deps, "remiss.pdf", "application/pdf", files["pdf"])
        attachments.check_upload(key, clock.now(), deps)
        actor = visits.clinician(deps.visits.get(visit_id).clinic_id, "dr.berg")
        marked = attachments.mark_saved(actor, visit_id, aid, deps)
    assert marked.attachment is not None
    assert marked.attachment.saved_by == "dr.holm"
    assert deps.messages.attachment(visit_id, aid).attachment == marked.attachment
