"""DICOMweb for imaging systems: STOW-RS to store, QIDO-RS to search, WADO-RS to retrieve (PS3.18), with
the clinic's key.

API Gateway takes requests up to 10 MB and Lambda payloads up to 6 MB, which the base64 encoding of a
binary body shrinks to about 4.5 MB of DICOM. A STOW-RS request over ``MAX_STOW_BYTES`` is refused with
413 and a pointer to ``POST /studies/uploads``, which takes files of any size straight to S3. A WADO-RS
answer over the same limit is a 303 to a pre-signed S3 URL of the same body (``services/retrieve.py``).
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import models
from chalicelib.api.answers import (
    CodeAttribute,
    FailedSequence,
    FailedSop,
    NameAttribute,
    NumberAttribute,
    PersonName,
    QidoStudy,
    ReferencedSequence,
    ReferencedSop,
    StowAnswer,
    TextAttribute,
    TextVR,
)
from chalicelib.api.auth import clinic_key
from chalicelib.api.errors import http_errors
from chalicelib.api.requests import current_clinic, current_request, query_from, query_params
from chalicelib.api.responses import answered
from chalicelib.domain.dicom_header import Failure
from chalicelib.domain.errors import MalformedRequest, NotAcceptable, TooLarge, UnsupportedMediaType
from chalicelib.domain.studies import FileStatus, Study, StudyQuery, UploadedFile, parse_date_range
from chalicelib.services import ingest, retrieve
from chalicelib.services.retrieve import DICOM_JSON, Scope
from chalicelib.settings import settings
from chalicelib.wiring import deps

bp = Blueprint(__name__)

MAX_STOW_BYTES = 4 * 1024 * 1024

# PS3.4 Annex GG / PS3.18 failure reasons.
_PROCESSING_FAILURE = 0x0110
_CANNOT_UNDERSTAND = 0xC000
_TRANSFER_SYNTAX_NOT_SUPPORTED = 0xC122
_STUDY_MISMATCH = 0xA900
_FAILURE_CODES = {
    Failure.CANNOT_UNDERSTAND: _CANNOT_UNDERSTAND,
    Failure.TRANSFER_SYNTAX_NOT_SUPPORTED: _TRANSFER_SYNTAX_NOT_SUPPORTED,
    Failure.STUDY_MISMATCH: _STUDY_MISMATCH,
}


@bp.route("/dicomweb/studies", methods=["POST"], authorizer=clinic_key, content_types=["multipart/related"])
@http_errors
def stow() -> Response:
    """STOW-RS: store the instances of a multipart/related request."""
    return _stow(None)


@bp.route("/dicomweb/studies/{study_uid}", methods=["POST"], authorizer=clinic_key, content_types=["multipart/related"])
@http_errors
def stow_to_study(study_uid: str) -> Response:
    """STOW-RS to one study: instances of any other study are refused."""
    return _stow(study_uid)


@bp.route("/dicomweb/studies", methods=["GET"], authorizer=clinic_key)
@http_errors
def qido() -> Response:
    """QIDO-RS: search the clinic's studies; answers application/dicom+json."""
    asked = query_from(_qido_params(), models.QidoSearch, refuse=MalformedRequest)
    search = StudyQuery(
        patient_name=asked.PatientName,
        patient_id=asked.PatientID,
        study_date=parse_date_range(asked.StudyDate) if asked.StudyDate else None,
        accession_number=asked.AccessionNumber,
        modality=asked.ModalitiesInStudy,
        study_instance_uid=asked.StudyInstanceUID,
        limit=asked.limit,
        offset=asked.offset,
    )
    studies = ingest.search_studies(current_clinic(), search, deps())
    return answered([_study_json(s) for s in studies], 200, content_type=DICOM_JSON)


@bp.route("/dicomweb/studies/{study_uid}", methods=["GET"], authorizer=clinic_key)
@http_errors
def retrieve_study(study_uid: str) -> Response:
    """WADO-RS: every instance of a study, as stored, in a multipart/related; type="application/dicom" body.

    Up to about 4 MB the instances are the answer (read from S3 a chunk at a time). A larger answer cannot
    pass through Lambda (6 MB buffered, no streaming from a Python handler behind API Gateway): it is
    written to S3 a chunk at a time and the answer is 303 See Other to a pre-signed URL valid 5 minutes,
    which clients following redirects (``requests``, so ``dicomweb-client``) fetch without our key.
    """
    return _retrieved(Scope(study_uid))


@bp.route("/dicomweb/studies/{study_uid}/series/{series_uid}", methods=["GET"], authorizer=clinic_key)
@http_errors
def retrieve_series(study_uid: str, series_uid: str) -> Response:
    """WADO-RS: every instance of a series, as ``retrieve_study`` answers (inline, or 303 when large)."""
    return _retrieved(Scope(study_uid, series_uid))


@bp.route(
    "/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}", methods=["GET"], authorizer=clinic_key
)
@http_errors
def retrieve_instance(study_uid: str, series_uid: str, sop_uid: str) -> Response:
    """WADO-RS: one instance, as ``retrieve_study`` answers (inline, or 303 when large)."""
    return _retrieved(Scope(study_uid, series_uid, sop_uid))


@bp.route("/dicomweb/studies/{study_uid}/metadata", methods=["GET"], authorizer=clinic_key)
@http_errors
def study_metadata(study_uid: str) -> Response:
    """WADO-RS: the header of every instance of a study as DICOM JSON (bulk data left out; 303 when large)."""
    return _metadata(Scope(study_uid))


@bp.route("/dicomweb/studies/{study_uid}/series/{series_uid}/metadata", methods=["GET"], authorizer=clinic_key)
@http_errors
def series_metadata(study_uid: str, series_uid: str) -> Response:
    """WADO-RS: the header of every instance of a series as DICOM JSON (as ``study_metadata`` answers)."""
    return _metadata(Scope(study_uid, series_uid))


@bp.route(
    "/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}/metadata",
    methods=["GET"],
    authorizer=clinic_key,
)
@http_errors
def instance_metadata(study_uid: str, series_uid: str, sop_uid: str) -> Response:
    """WADO-RS: the header of one instance as DICOM JSON (as ``study_metadata`` answers)."""
    return _metadata(Scope(study_uid, series_uid, sop_uid))


def _retrieved(scope: Scope) -> Response:
    accept = current_request().headers.get("accept", "")
    if not any(kind in accept.lower() for kind in ("multipart/related", "*/*")):
        # Checked before any read: API Gateway passes a binary answer only to a request accepting it.
        raise NotAcceptable('WADO-RS answers multipart/related; type="application/dicom": send that Accept header')
    return _answer(retrieve.retrieve(current_clinic(), scope, deps()), binary=True)


def _metadata(scope: Scope) -> Response:
    return _answer(retrieve.metadata(current_clinic(), scope, deps()), binary=False)


def _answer(answer: retrieve.Retrieved, *, binary: bool) -> Response:
    """200 with the answer, or 303 to where it was kept (a Lambda's answer takes a text body unless binary)."""
    if answer.location is not None:
        return Response(body="", status_code=303, headers={"Location": answer.location, "Cache-Control": "no-store"})
    body = answer.body or b""
    return Response(
        body=body if binary else body.decode(),
        status_code=200,
        headers={"Content-Type": answer.content_type, "Cache-Control": "no-store"},
    )


def _stow(study_uid: str | None) -> Response:
    request = current_request()
    raw = request.raw_body or b""
    body = raw if isinstance(raw, bytes) else raw.encode()
    if len(body) > MAX_STOW_BYTES:
        raise TooLarge(
            f"STOW-RS requests are limited to {MAX_STOW_BYTES // (1024 * 1024)} MB here (API Gateway and Lambda "
            "payload limits); upload large files with POST /studies/uploads"
        )
    upload = ingest.store_instances(
        current_clinic(),
        _dicom_parts(request.headers.get("content-type", ""), body),
        deps(),
        study_instance_uid=study_uid,
    )
    stored = [f for f in upload.files if f.status is FileStatus.STORED]
    failed = [f for f in upload.files if f.status is not FileStatus.STORED]
    response = StowAnswer()
    studies = {f.study_instance_uid for f in stored}
    if len(studies) == 1:  # the study's own RetrieveURL, beside each instance's (PS3.18 10.5.3)
        response.retrieve_url = _url(f"{settings().public_base_url}/dicomweb/studies/{studies.pop()}")
    if stored:
        response.referenced = ReferencedSequence(vr="SQ", Value=[_referenced(f) for f in stored])
    if failed:
        response.failed = FailedSequence(vr="SQ", Value=[_failed(f) for f in failed])
    status = 200 if not failed else 202 if stored else 409
    return answered(response, status, content_type=DICOM_JSON, headers={"X-Upload-Id": upload.upload_id})


def _dicom_parts(content_type: str, body: bytes) -> list[bytes]:
    from requests_toolbelt.multipart.decoder import (  # type: ignore[import-untyped]
        ImproperBodyPartContentException,
        MultipartDecoder,
        NonMultipartContentTypeException,
    )

    if (
        'type="application/dicom"' not in content_type.replace("'", '"')
        and "type=application/dicom" not in content_type
    ):
        raise UnsupportedMediaType('STOW-RS takes multipart/related; type="application/dicom"')
    if "boundary=" not in content_type:
        raise MalformedRequest("The Content-Type names no multipart boundary")
    try:
        parts = MultipartDecoder(body, content_type).parts
    except (ImproperBodyPartContentException, NonMultipartContentTypeException, ValueError) as err:
        raise MalformedRequest("The multipart/related body cannot be parsed (check the boundary)") from err
    for part in parts:
        part_type = part.headers.get(b"Content-Type", b"application/dicom").split(b";")[0].strip().lower()
        if part_type != b"application/dicom":
            raise UnsupportedMediaType("Every part must be application/dicom (bulk data and metadata are not taken)")
    return [part.content for part in parts]


def _referenced(file: UploadedFile) -> ReferencedSop:
    """A ReferencedSOPSequence item (PS3.18 10.5.3): the instance, and where WADO-RS retrieves that instance."""
    url = f"{settings().public_base_url}/dicomweb/studies/{file.study_instance_uid}"
    if file.series_instance_uid:
        url += f"/series/{file.series_instance_uid}/instances/{file.sop_instance_uid}"
    return ReferencedSop(
        sop_class_uid=_uid(file.sop_class_uid or ""),
        sop_instance_uid=_uid(file.sop_instance_uid or ""),
        retrieve_url=_url(url),
    )


def _failed(file: UploadedFile) -> FailedSop:
    """A FailedSOPSequence item (PS3.18 10.5.3): the reason's code, and the instance when it could be read."""
    code = _FAILURE_CODES[file.failure] if file.failure else _PROCESSING_FAILURE
    item = FailedSop(failure_reason=CodeAttribute(vr="US", Value=[code]))
    if file.sop_class_uid:
        item.sop_class_uid = _uid(file.sop_class_uid)
    if file.sop_instance_uid:
        item.sop_instance_uid = _uid(file.sop_instance_uid)
    return item


def _uid(uid: str) -> TextAttribute:
    return TextAttribute(vr="UI", Value=[uid])


def _url(url: str) -> TextAttribute:
    return TextAttribute(vr="UR", Value=[url])


_QIDO_TAGS = {
    "00100010": "PatientName",
    "00100020": "PatientID",
    "00080020": "StudyDate",
    "00080050": "AccessionNumber",
    "00080061": "ModalitiesInStudy",
    "0020000D": "StudyInstanceUID",
}
_PARAMETERS = set(models.QidoSearch.__struct_fields__)


def _qido_params() -> dict[str, str]:
    """The query string by keyword (a tag is mapped to its keyword; an empty value counts as absent)."""
    params: dict[str, str] = {}
    for name, value in query_params().items():
        keyword = _QIDO_TAGS.get(name.upper(), name)
        if keyword not in _PARAMETERS:
            raise MalformedRequest(f"Unsupported QIDO-RS parameter '{name}'")
        if value != "":
            params[keyword] = value
    return params


def _study_json(study: Study) -> QidoStudy:
    def text(vr: TextVR, value: str) -> TextAttribute:
        return TextAttribute(vr=vr, Value=[value]) if value else TextAttribute(vr=vr)

    return QidoStudy(
        study_date=text("DA", study.study_date),
        study_time=text("TM", study.study_time),
        accession_number=text("SH", study.accession_number),
        modalities_in_study=TextAttribute(vr="CS", Value=list(study.modalities))
        if study.modalities
        else TextAttribute(vr="CS"),
        study_description=text("LO", study.study_description),
        retrieve_url=text("UR", f"{settings().public_base_url}/dicomweb/studies/{study.study_instance_uid}"),
        patient_name=NameAttribute(vr="PN", Value=[PersonName(Alphabetic=study.patient_name)])
        if study.patient_name
        else NameAttribute(vr="PN"),
        patient_id=text("LO", study.patient_id),
        patient_birth_date=text("DA", study.patient_birth_date),
        study_instance_uid=text("UI", study.study_instance_uid),
        number_of_series=NumberAttribute(vr="IS", Value=[study.number_of_series]),
        number_of_instances=NumberAttribute(vr="IS", Value=[study.number_of_instances]),
    )
