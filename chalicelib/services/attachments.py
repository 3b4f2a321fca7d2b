"""Use cases of chat files: announce one and get where to upload it, check it, serve it, forget it.

1. ``request_attachment``: the declared name, size and type are checked at once (over 10 MB → 413,
   audio or a type off the allow-list → 415); the file's message appears as ``pending`` and the sender
   gets a pre-signed S3 POST for exactly one key, 1 byte to 10 MiB, of the declared type, that works
   only as long as sending the declared size needs (``upload_form_lifetime``).
2. ``check_upload`` (the attachment worker): S3 does not enforce a POST policy everywhere (moto never
   does) and a type declared is only a claim, so everything is checked again on the stored bytes: the
   real size, the type sniffed from the content (audio and anything off the list are refused however
   they are named), pictures re-encoded without metadata (GPS above all) and turned upright, videos
   copied without theirs, a thumbnail or a video's poster frame. A refused file is deleted; its message
   says why.
3. ``download_url``: a participant of the visit gets a pre-signed GET for a few minutes, inline for
   pictures and videos, as an attachment for documents, as the type sniffed and under the sender's
   name with that type's extension (``download_name``); S3 answers with both, whatever was stored.

The sender's upload and the served file have different keys, so a second POST with the same form
never replaces a file that was already checked: the worker deletes it unread.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from chalicelib.domain.errors import Conflict, Gone, NotFound, StaleWrite
from chalicelib.domain.visits import (
    Attachment,
    AttachmentRef,
    AttachmentStatus,
    Message,
    RejectReason,
    attachment_filename,
    declared_size,
    declared_type,
    file_key,
    new_attachment_id,
    parse_upload_key,
    preview_key,
    upload_form_lifetime,
    upload_key,
)
from chalicelib.media.attachment_types import MAX_ATTACHMENT_BYTES, extension_of
from chalicelib.services.chat import append, settled
from chalicelib.services.deps import Deps
from chalicelib.services.ports import PresignedPost
from chalicelib.services.visits import Participant, acting_clinician, visit_for

#: How often a write that lost a race is redone on a fresh read before the caller is told (a 409, or SQS's retry).
WRITE_ATTEMPTS = 3
#: Downloads and previews: long enough to start, short enough that a copied URL soon stops working.
DOWNLOAD_URL_SECONDS = 300
#: Every preview (a picture's thumbnail, a video's poster frame) is a JPEG.
PREVIEW_TYPE = "image/jpeg"
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class RequestedAttachment:
    """A file's message (pending) and the form that uploads it."""

    message: Message
    upload: PresignedPost


def request_attachment(
    actor: Participant, visit_id: str, filename: object, content_type: object, size: object, deps: Deps
) -> RequestedAttachment:
    """Announce a file in an open visit and hand out its upload form."""
    name, length, mime = attachment_filename(filename), declared_size(size), declared_type(content_type)
    message = append(actor, visit_id, deps, attachment=Attachment(new_attachment_id(), name, mime, length))
    attachment = message.attachment
    assert attachment is not None  # append() keeps what it was given
    post = deps.objects.presigned_post(
        deps.buckets.chat,
        upload_key(message.clinic_id, message.visit_id, attachment.attachment_id),
        max_bytes=MAX_ATTACHMENT_BYTES,
        expires_s=int(upload_form_lifetime(length).total_seconds()),
        content_type=mime,
    )
    return RequestedAttachment(message, post)


def download_url(actor: Participant, visit_id: str, attachment_id: str, deps: Deps, *, preview: bool = False) -> str:
    """A short-lived URL of a kept file (or of its preview) for a participant of the visit."""
    visit = visit_for(actor, visit_id, deps)
    message = settled(deps.messages.attachment(visit.visit_id, attachment_id), deps)
    attachment = message.attachment
    assert attachment is not None  # found through its attachment id
    if attachment.status is AttachmentStatus.PENDING:
        raise Conflict("The file is still being checked")
    if attachment.status is AttachmentStatus.REJECTED:
        raise Gone("The file was refused and deleted")
    bucket, ids = deps.buckets.chat, (visit.clinic_id, visit.visit_id, attachment_id)
    if preview:
        if not attachment.has_preview:
            raise NotFound("The file has no preview")
        return deps.objects.presigned_get(
            bucket, preview_key(*ids), expires_s=DOWNLOAD_URL_SECONDS, content_type=PREVIEW_TYPE
        )
    return deps.objects.presigned_get(
        bucket,
        file_key(*ids),
        expires_s=DOWNLOAD_URL_SECONDS,
        filename=download_name(attachment),
        inline=attachment.inline,
        content_type=served_type(attachment),
    )


def mark_saved(actor: Participant, visit_id: str, attachment_id: str, deps: Deps) -> Message:
    """A clinician has saved a kept file into the medical record (the first to mark it counts)."""
    saving = acting_clinician(actor)
    visit = visit_for(actor, visit_id, deps)
    for _ in range(WRITE_ATTEMPTS):
        message = deps.messages.attachment(visit.visit_id, attachment_id)
        assert message.attachment is not None
        saved = message.attachment.saved(saving, deps.clock.now())
        if saved is message.attachment:
            return message
        try:
            deps.messages.save_attachment(message, saved)
        except StaleWrite:
            continue  # another clinician, or the close, wrote the row since: decide again on a fresh read
        return replace(message, attachment=saved)
    raise StaleWrite("The file's message keeps changing; try again")


def served_type(attachment: Attachment) -> str:
    """The type a kept file is served as: the one found in its bytes (and, for HEIC, the JPEG it became)."""
    if attachment.status is not AttachmentStatus.READY or attachment.mime is None:
        raise Conflict("Only a file that was checked and kept is served")
    return attachment.mime


def download_name(attachment: Attachment) -> str:
    """The name a download is saved under: the sender's, with the extension of the type served.

    The sender chose the extension, and it is what decides what opening the file does (Windows runs a
    ``provsvar.hta`` that holds text); the type was decided from the bytes, so its extension replaces
    the sender's: ``provsvar.txt``. HEIC/HEIF becomes JPEG when cleaned, so ``IMG_1.HEIC`` is ``IMG_1.jpg``.
    """
    return PurePosixPath(attachment.filename).stem + extension_of(served_type(attachment))


# ------------------------------------------------------------------------------------ the worker's part


def check_upload(object_key: str, arrived_at: datetime, deps: Deps) -> Message | None:
    """Check one uploaded object, which reached the bucket at ``arrived_at``, and record the verdict.

    Returns the file's message (None: not ours). Idempotent: an upload whose attachment is no longer
    pending (checked already, or the visit ended) is deleted unread. An upload that arrived after the
    visit was closed is refused and deleted unread: its form was handed out before the close, but the
    closing clinician has been reminded of the kept files already.

    The verdict is written only onto the message as it was read (``save_attachment``): when the row
    changed meanwhile (the visit was closed, another run judged the file), the file is judged again.
    """
    ref = parse_upload_key(object_key)
    if ref is None:
        return None
    for _ in range(WRITE_ATTEMPTS):
        try:
            return _judge(ref, object_key, arrived_at, deps)
        except StaleWrite:
            continue
    raise StaleWrite("The file's message keeps changing; the queue brings the upload back later")


def _judge(ref: AttachmentRef, object_key: str, arrived_at: datetime, deps: Deps) -> Message | None:
    bucket = deps.buckets.chat
    try:
        message = deps.messages.attachment(ref.visit_id, ref.attachment_id)
        visit = deps.visits.get(ref.visit_id)
    except NotFound:
        deps.objects.delete(bucket, object_key)
        return None
    attachment = message.attachment
    assert attachment is not None
    if (
        message.clinic_id != ref.clinic_id
        or attachment.status is not AttachmentStatus.PENDING
        or deps.clock.now() >= message.expires_at
    ):
        deps.objects.delete(bucket, object_key)
        return message
    if visit.took_upload(arrived_at):
        try:
            size = deps.objects.size(bucket, object_key)
        except NotFound:
            return message  # another run took it: its verdict is recorded
        verdict = _inspect(object_key, size, message, deps)
    else:
        verdict = attachment.rejected(RejectReason.AFTER_CLOSE)
    deps.messages.save_attachment(message, verdict)
    if verdict.status is AttachmentStatus.REJECTED:
        # An earlier attempt (one that lost its write, or a run that failed after it) may have kept a copy.
        for key in (file_key, preview_key):
            deps.objects.delete(bucket, key(ref.clinic_id, ref.visit_id, ref.attachment_id))
    deps.objects.delete(bucket, object_key)
    return replace(message, attachment=verdict)


def _inspect(object_key: str, size: int, message: Message, deps: Deps) -> Attachment:
    from chalicelib.media.attachment_types import is_allowed
    from chalicelib.media.errors import MediaError
    from chalicelib.media.sniff import sniff

    attachment = message.attachment
    assert attachment is not None
    if size == 0:
        return attachment.rejected(RejectReason.EMPTY)
    if size > MAX_ATTACHMENT_BYTES:
        return attachment.rejected(RejectReason.TOO_LARGE)
    bucket = deps.buckets.chat
    with tempfile.TemporaryDirectory(prefix="attachment-") as folder:
        upload = Path(folder) / "upload"
        with deps.objects.open(bucket, object_key) as reader, upload.open("wb") as out:
            shutil.copyfileobj(reader, out, _COPY_CHUNK)
        sniffed = sniff(upload)
        if sniffed.family == "audio":
            return attachment.rejected(RejectReason.AUDIO)
        if not is_allowed(sniffed.family):
            return attachment.rejected(RejectReason.TYPE)
        try:
            mime, body, preview = _clean(upload, sniffed.mime, sniffed.family, Path(folder))
        except MediaError:
            return attachment.rejected(RejectReason.UNREADABLE)
    ids = (message.clinic_id, message.visit_id, attachment.attachment_id)
    deps.objects.put(bucket, file_key(*ids), body, mime)
    if preview is not None:
        deps.objects.put(bucket, preview_key(*ids), preview, PREVIEW_TYPE)
    return attachment.ready(mime, sniffed.family, len(body), has_preview=preview is not None)


def _clean(upload: Path, mime: str, family: str, folder: Path) -> tuple[str, bytes, bytes | None]:
    """What to serve, its type, and its preview.

    Pictures are re-encoded bare and upright; videos are copied stream by stream without their metadata
    (where, when and with what they were shot); documents are served as sent.
    """
    from chalicelib.media.image_metadata import strip_image_metadata
    from chalicelib.media.previews import image_thumbnail, video_poster
    from chalicelib.media.video import strip_video_metadata

    cleaned = folder / "cleaned"
    if family == "image":
        info = strip_image_metadata(upload, cleaned)
        return info.mime, cleaned.read_bytes(), image_thumbnail(cleaned)
    if family == "video":
        strip_video_metadata(upload, cleaned, mime)
        return mime, cleaned.read_bytes(), video_poster(cleaned)
    return mime, upload.read_bytes(), None


def delete_files(clinic_id: str, visit_id: str, attachment_id: str, deps: Deps) -> None:
    """Delete everything an attachment left in the chat bucket (its row has expired)."""
    bucket = deps.buckets.chat
    for key in (upload_key, file_key, preview_key):
        deps.objects.delete(bucket, key(clinic_id, visit_id, attachment_id))
