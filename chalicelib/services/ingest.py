"""Use cases of the study index: take files in (STOW-RS or pre-signed uploads), index them, find them.

Both ways in end in ``index_file``: parse the header (never the pixels), store the instance and its
study summary, and record the file's fate on its upload. A file we cannot index is never lost: it is
moved to quarantine and its upload says why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.domain.dicom_header import Failure, Unreadable, read_indexed
from chalicelib.domain.errors import InvalidInput, NotFound, StaleWrite
from chalicelib.domain.studies import (
    MAX_FILES_PER_UPLOAD,
    UPLOAD_RECORD_DAYS,
    FileStatus,
    Instance,
    Study,
    StudyQuery,
    Upload,
    UploadedFile,
    cover_thumbnail,
    new_upload_id,
    parse_upload_key,
    quarantine_key,
    summarize,
    thumbnail_key,
    upload_key,
)
from chalicelib.services.deps import Deps
from chalicelib.services.ports import PresignedPost
from chalicelib.services.versioned import WRITE_ATTEMPTS

#: A pre-signed upload is valid this long.
UPLOAD_URL_SECONDS = 3600
#: The largest file one pre-signed POST takes (S3's limit for a single POST).
MAX_UPLOAD_BYTES = 5 * 1024**3
#: Thumbnail URLs for the clinic's screens live this long.
THUMBNAIL_URL_SECONDS = 300


@dataclass(frozen=True)
class RequestedUpload:
    """An upload with where to send each of its files."""

    upload: Upload
    posts: tuple[PresignedPost, ...]


def request_uploads(clinic_id: str, count: int, deps: Deps) -> RequestedUpload:
    """Hand out pre-signed POSTs for ``count`` files of any size, recorded as one pending upload."""
    if not 1 <= count <= MAX_FILES_PER_UPLOAD:
        raise InvalidInput(f"'files' must be between 1 and {MAX_FILES_PER_UPLOAD}")
    upload = _new_upload(clinic_id, count, deps)
    deps.uploads.add(upload)
    posts = tuple(
        deps.objects.presigned_post(
            deps.buckets.ingest, f.object_key, max_bytes=MAX_UPLOAD_BYTES, expires_s=UPLOAD_URL_SECONDS
        )
        for f in upload.files
    )
    return RequestedUpload(upload, posts)


def store_instances(clinic_id: str, parts: list[bytes], deps: Deps, *, study_instance_uid: str | None = None) -> Upload:
    """STOW-RS: keep every part in the ingest bucket and index it at once; returns the upload with each fate.

    The ingest worker sees the same objects through the bucket's event and renders their thumbnails;
    indexing again there is harmless (ingest is idempotent).
    """
    if not parts:
        raise InvalidInput("The request holds no DICOM instances")
    if len(parts) > MAX_FILES_PER_UPLOAD:
        raise InvalidInput(f"At most {MAX_FILES_PER_UPLOAD} instances a request")
    upload = _new_upload(clinic_id, len(parts), deps)
    deps.uploads.add(upload)
    files = []
    for file, body in zip(upload.files, parts, strict=True):
        deps.objects.put(deps.buckets.ingest, file.object_key, body, "application/dicom")
        files.append(index_file(clinic_id, upload.upload_id, file, deps, expected_study=study_instance_uid))
    return replace(upload, files=tuple(files))


def refresh_summary(clinic_id: str, study_instance_uid: str, now: datetime, deps: Deps) -> Study:
    """Write the study's summary from its instances as stored now.

    Workers index a study's instances side by side: the summary's version is read before the instances,
    and the write is conditional on it, so a summary made from a list that missed another worker's
    instance is refused and made again from a fresh one.
    """
    for _ in range(WRITE_ATTEMPTS):
        try:
            version = deps.studies.get_study(clinic_id, study_instance_uid).version
        except NotFound:
            version = 0
        study = summarize(clinic_id, deps.studies.instances(clinic_id, study_instance_uid), now)
        try:
            return deps.studies.put_study(replace(study, version=version))
        except StaleWrite:
            continue
    raise StaleWrite("The study is being indexed by other workers; the upload is tried again")


def ingest_object(object_key: str, deps: Deps) -> UploadedFile | None:
    """The ingest worker's job for one new object: index it and render its thumbnail.

    Returns None for keys we never handed out (they are left alone).
    """
    ref = parse_upload_key(object_key)
    if ref is None:
        return None
    file = index_file(ref.clinic_id, ref.upload_id, UploadedFile(ref.index, object_key), deps)
    if file.status is FileStatus.STORED and file.study_instance_uid and file.sop_instance_uid:
        _render_thumbnail(ref.clinic_id, file.study_instance_uid, file.sop_instance_uid, deps)
    return file


def index_file(
    clinic_id: str, upload_id: str, file: UploadedFile, deps: Deps, *, expected_study: str | None = None
) -> UploadedFile:
    """Index one stored file (idempotent) and record its fate on the upload."""
    bucket = deps.buckets.ingest
    try:
        size = deps.objects.size(bucket, file.object_key)
    except NotFound:
        return file  # already quarantined or replaced by an earlier run: its fate is recorded
    try:
        with deps.objects.open(bucket, file.object_key) as reader:
            indexed = read_indexed(reader)
        header = indexed.header
        if expected_study is not None and header.study_instance_uid != expected_study:
            raise Unreadable(
                "The instance belongs to another study than the one in the request URL",
                Failure.STUDY_MISMATCH,
                sop_class_uid=header.sop_class_uid,
                sop_instance_uid=header.sop_instance_uid,
            )
    except Unreadable as refused:
        deps.objects.move(bucket, file.object_key, quarantine_key(file.object_key))
        failed = replace(
            file,
            status=FileStatus.FAILED,
            reason=refused.message,
            failure=refused.failure,
            sop_class_uid=refused.sop_class_uid,
            sop_instance_uid=refused.sop_instance_uid,
        )
        deps.uploads.save_file(upload_id, failed)
        return failed

    now = deps.clock.now()
    instance = Instance(clinic_id, header, file.object_key, size, now, verdict=indexed.verdict)
    previous = deps.studies.put_instance(instance)
    if previous is not None and previous.object_key != instance.object_key:
        # The same SOP Instance sent again: keep one copy, the newest.
        deps.objects.delete(bucket, previous.object_key)
        if previous.thumbnail_key is not None:
            deps.studies.put_instance(replace(instance, thumbnail_key=previous.thumbnail_key))
    refresh_summary(clinic_id, header.study_instance_uid, now, deps)
    stored = replace(
        file,
        status=FileStatus.STORED,
        reason=None,
        study_instance_uid=header.study_instance_uid,
        sop_instance_uid=header.sop_instance_uid,
        sop_class_uid=header.sop_class_uid,
        series_instance_uid=header.series_instance_uid,
    )
    deps.uploads.save_file(upload_id, stored)
    return stored


def _render_thumbnail(clinic_id: str, study_instance_uid: str, sop_instance_uid: str, deps: Deps) -> None:
    instances = deps.studies.instances(clinic_id, study_instance_uid)
    instance = next((i for i in instances if i.sop_instance_uid == sop_instance_uid), None)
    if instance is None or not instance.header.has_pixel_data:
        return
    with deps.objects.open(deps.buckets.ingest, instance.object_key) as reader:
        jpeg = deps.thumbnails.render(reader)
    if jpeg is None:
        return
    key = thumbnail_key(clinic_id, sop_instance_uid)
    deps.objects.put(deps.buckets.ingest, key, jpeg, "image/jpeg")
    rendered = replace(instance, thumbnail_key=key)
    deps.studies.put_instance(rendered)
    # The summary names the study's cover for lists; it is written again (from a fresh read) only when this
    # thumbnail changes which it is. Workers rendering side by side each compare after their own put, so
    # the one whose thumbnail comes first always finds the summary without it and writes it.
    cover = cover_thumbnail([rendered if i is instance else i for i in instances])
    if deps.studies.get_study(clinic_id, study_instance_uid).cover_thumbnail_key != cover:
        refresh_summary(clinic_id, study_instance_uid, deps.clock.now(), deps)


def get_upload(clinic_id: str, upload_id: str, deps: Deps) -> Upload:
    """An upload of the clinic with each file's fate."""
    return deps.uploads.get(clinic_id, upload_id)


def search_studies(clinic_id: str, query: StudyQuery, deps: Deps) -> list[Study]:
    """The clinic's studies that match."""
    return deps.studies.search(clinic_id, query)


@dataclass(frozen=True)
class StudyDetail:
    """A study with its instances and short-lived thumbnail URLs (by SOP Instance UID)."""

    study: Study
    instances: list[Instance]
    thumbnail_urls: dict[str, str]


def study_detail(clinic_id: str, study_instance_uid: str, deps: Deps) -> StudyDetail:
    """One study of the clinic, for its console."""
    study = deps.studies.get_study(clinic_id, study_instance_uid)
    instances = deps.studies.instances(clinic_id, study_instance_uid)
    urls = {
        i.sop_instance_uid: deps.objects.presigned_get(
            deps.buckets.ingest, i.thumbnail_key, expires_s=THUMBNAIL_URL_SECONDS
        )
        for i in instances
        if i.thumbnail_key is not None
    }
    return StudyDetail(study, instances, urls)


def cover_thumbnails(clinic_id: str, studies: list[Study], deps: Deps) -> dict[str, str]:
    """Per study (by Study Instance UID), a short-lived URL of its cover thumbnail, for a list of studies:
    the summary names it, so a page of studies costs no read of their instances."""
    return {
        study.study_instance_uid: deps.objects.presigned_get(
            deps.buckets.ingest, study.cover_thumbnail_key, expires_s=THUMBNAIL_URL_SECONDS
        )
        for study in studies
        if study.clinic_id == clinic_id and study.cover_thumbnail_key is not None
    }


def _new_upload(clinic_id: str, count: int, deps: Deps) -> Upload:
    now = deps.clock.now()
    upload_id = new_upload_id()
    files = tuple(UploadedFile(i, upload_key(clinic_id, upload_id, i)) for i in range(count))
    return Upload(upload_id, clinic_id, now, now + timedelta(days=UPLOAD_RECORD_DAYS), files)
