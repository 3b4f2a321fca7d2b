"""The clinic's console view of its studies, and large uploads."""

from __future__ import annotations

import msgspec
from chalice.app import Blueprint, Response

from chalicelib.api import answers, models
from chalicelib.api.auth import clinic_key
from chalicelib.api.errors import http_errors
from chalicelib.api.requests import body, current_clinic, query
from chalicelib.api.responses import created, ok
from chalicelib.domain.studies import Instance, Study, StudyQuery, Upload, UploadedFile, by_series
from chalicelib.services import ingest
from chalicelib.wiring import deps

bp = Blueprint(__name__)


@bp.route("/studies", methods=["GET"], authorizer=clinic_key)
@http_errors
def search() -> Response:
    """Free-text search (``q``: name parts, patient id or accession number), newest first."""
    asked = query(models.StudySearch)
    search = StudyQuery(text=asked.q, limit=asked.limit, offset=asked.offset)
    studies = ingest.search_studies(current_clinic(), search, deps())
    return ok(answers.StudyList(studies=[study_view(s) for s in studies], limit=search.limit, offset=search.offset))


@bp.route("/studies/{study_uid}", methods=["GET"], authorizer=clinic_key)
@http_errors
def get_study(study_uid: str) -> Response:
    """A study with its series, instances and short-lived thumbnail URLs."""
    detail = ingest.study_detail(current_clinic(), study_uid, deps())
    series = [
        answers.SeriesAnswer(
            series_instance_uid=s.series_instance_uid,
            modality=s.modality,
            series_number=s.series_number,
            series_description=s.series_description,
            instances=[instance_view(i, detail.thumbnail_urls.get(i.sop_instance_uid)) for i in s.instances],
        )
        for s in by_series(detail.instances)
    ]
    study = study_view(detail.study)
    return ok(answers.StudyDetail(**msgspec.structs.asdict(study), series=series))


@bp.route("/studies/uploads", methods=["POST"], authorizer=clinic_key, content_types=["application/json"])
@http_errors
def request_uploads() -> Response:
    """Pre-signed S3 POSTs for files of any size (``{"files": N}``); each lands in the ingest bucket."""
    requested = ingest.request_uploads(current_clinic(), body(models.UploadRequest).files, deps())
    return created(requested_view(requested))


@bp.route("/studies/uploads/{upload_id}", methods=["GET"], authorizer=clinic_key)
@http_errors
def get_upload(upload_id: str) -> Response:
    """What became of each file of an upload (pending, stored or failed with a reason)."""
    return ok(upload_view(ingest.get_upload(current_clinic(), upload_id, deps())))


def study_view(study: Study) -> answers.StudyAnswer:
    """A study as the console shows it."""
    return answers.StudyAnswer(
        study_instance_uid=study.study_instance_uid,
        patient_name=study.patient_name,
        patient_id=study.patient_id,
        patient_birth_date=study.patient_birth_date,
        study_date=study.study_date,
        study_time=study.study_time,
        accession_number=study.accession_number,
        study_description=study.study_description,
        modalities=list(study.modalities),
        number_of_series=study.number_of_series,
        number_of_instances=study.number_of_instances,
        patient_contacts=answers.PatientContacts(
            phones=list(study.patient_telephone_numbers), emails=list(study.patient_emails)
        ),
    )


def instance_view(instance: Instance, thumbnail_url: str | None) -> answers.InstanceAnswer:
    """An instance as the console shows it."""
    h = instance.header
    return answers.InstanceAnswer(
        sop_instance_uid=h.sop_instance_uid,
        sop_class_uid=h.sop_class_uid,
        instance_number=h.instance_number,
        number_of_frames=h.number_of_frames,
        transfer_syntax_uid=h.transfer_syntax_uid,
        rows=h.rows,
        columns=h.columns,
        size=instance.size,
        thumbnail_url=thumbnail_url,
    )


def requested_view(requested: ingest.RequestedUpload) -> answers.RequestedUpload:
    """A new upload, each file with the pre-signed POST to send it with."""
    upload = requested.upload
    return answers.RequestedUpload(
        upload_id=upload.upload_id,
        created_at=upload.created_at.isoformat(),
        expires_at=upload.expires_at.isoformat(),
        files=[
            answers.RequestedFile(
                **msgspec.structs.asdict(file_view(f)),
                upload=answers.PresignedPostAnswer(url=post.url, fields=post.fields),
            )
            for f, post in zip(upload.files, requested.posts, strict=True)
        ],
    )


def upload_view(upload: Upload) -> answers.UploadAnswer:
    """An upload and each file's fate."""
    return answers.UploadAnswer(
        upload_id=upload.upload_id,
        created_at=upload.created_at.isoformat(),
        expires_at=upload.expires_at.isoformat(),
        files=[file_view(f) for f in upload.files],
    )


def file_view(file: UploadedFile) -> answers.UploadedFileAnswer:
    """An uploaded file's fate (what every answer about the file says first)."""
    return answers.UploadedFileAnswer(
        index=file.index,
        status=file.status,
        reason=file.reason,
        study_instance_uid=file.study_instance_uid,
        sop_instance_uid=file.sop_instance_uid,
    )
