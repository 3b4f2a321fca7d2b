"""The console's Upload: DICOM files or whole folders, dropped or chosen, sent through the same pre-signed
upload path as the API's ``POST /studies/uploads`` (``services/ingest.request_uploads``): each file goes
straight to the ingest bucket, the ingest worker indexes it, and the page shows each file's fate.

The page's script asks for upload forms in batches (at most ``ingest``'s limit a request; it asks for a few
dozen at a time, just before sending them, so no form expires while a long batch is on its way), sends a
few files at a time with a progress bar each, and polls each batch until every file is stored or failed.
Its JSON calls carry the console's session cookie and the ``X-CSRF-Token`` header (``api/staffed.py``).
"""

from __future__ import annotations

from typing import ParamSpec

import msgspec
from chalice.app import Blueprint, Response

from chalicelib.api import models, refusals
from chalicelib.api.answers import ExplainedFile, ExplainedUpload
from chalicelib.api.requests import body
from chalicelib.api.responses import created, ok
from chalicelib.api.staffed import Staffed, staffed
from chalicelib.api.studies import file_view, requested_view
from chalicelib.api.web import Storage, language, secure_page, secure_pages
from chalicelib.domain.dicom_header import Failure
from chalicelib.domain.studies import FileStatus, Upload
from chalicelib.services import ingest
from chalicelib.wiring import deps

bp = Blueprint(__name__)
P = ParamSpec("P")

#: How many files the script asks forms for at once.
BATCH_FILES = 50
#: How many files the script sends side by side.
PARALLEL_UPLOADS = 4

#: The page posts files to the ingest bucket (its origin is in the page's CSP).
upload_page = secure_pages(Storage.INGEST)


@bp.route("/console/upload", methods=["GET"])
@upload_page
@staffed("upload")
def upload(ctx: Staffed) -> Response:
    """Drop DICOM files or a folder (or choose them): each file's progress, then whether it was stored."""
    return ctx.render("console_upload.html", strings=_strings(language()), batch=BATCH_FILES, parallel=PARALLEL_UPLOADS)


@bp.route("/console/upload/batches", methods=["POST"], content_types=["application/json"])
@secure_page
@staffed("upload", script=True)
def request_batch(ctx: Staffed) -> Response:
    """Pre-signed POSTs for ``{"files": N}`` files of the member's clinic (the API's upload path)."""
    requested = ingest.request_uploads(ctx.clinic_id, body(models.UploadRequest).files, deps())
    ctx.record("upload_requested", upload_id=requested.upload.upload_id, files=str(len(requested.posts)))
    return created(requested_view(requested))


@bp.route("/console/upload/batches/{upload_id}", methods=["GET"])
@secure_page
@staffed("upload", script=True)
def batch_status(ctx: Staffed, upload_id: str) -> Response:
    """Each file of one of the clinic's uploads: pending, stored, or failed with its reason in the page's language."""
    return ok(_status_view(ingest.get_upload(ctx.clinic_id, upload_id, deps()), language()))


def _status_view(upload: Upload, lang: str) -> ExplainedUpload:
    return ExplainedUpload(
        upload_id=upload.upload_id,
        created_at=upload.created_at.isoformat(),
        expires_at=upload.expires_at.isoformat(),
        files=[
            ExplainedFile(
                **msgspec.structs.asdict(file_view(f)),
                explanation=_explanation(f.failure, lang) if f.status is FileStatus.FAILED else None,
            )
            for f in upload.files
        ],
    )


_FAILURES_SV_EN = {
    Failure.CANNOT_UNDERSTAND: (
        "filen är inte DICOM, är skadad eller saknar det som behövs för att lagra den",
        "the file is not DICOM, is damaged, or lacks what storing it needs",
    ),
    Failure.TRANSFER_SYNTAX_NOT_SUPPORTED: (
        "filens komprimering (överföringssyntax) tas inte emot: ställ in apparaten på en annan",
        "the file's compression (transfer syntax) is not taken: set the machine to another",
    ),
    Failure.STUDY_MISMATCH: (
        "bilden hör till en annan undersökning än den som angavs",
        "the image belongs to another study than the one named",
    ),
}


def _explanation(failure: Failure | None, lang: str) -> str:
    sv, en = _FAILURES_SV_EN[failure or Failure.CANNOT_UNDERSTAND]
    return sv if lang == "sv" else en


def _strings(lang: str) -> dict[str, str]:
    """The script's words in ``lang``."""

    def t(sv: str, en: str) -> str:
        return sv if lang == "sv" else en

    return {
        "waiting": t("väntar", "waiting"),
        "uploading": t("skickas", "uploading"),
        "sent": t("skickad, lagras …", "sent, being stored …"),
        "stored": t("lagrad", "stored"),
        "failed": t("togs inte emot", "not accepted"),
        "upload_failed": t("kunde inte skickas", "could not be sent"),
        "session": t(
            "Du är utloggad. Logga in igen och ladda upp resten.",
            "You are signed out. Sign in again and upload the rest.",
        ),
        "progress_of": t("Förlopp för", "Progress of"),
        "detail": t("Detalj", "Detail"),
        "summary": t("{stored} lagrade, {failed} togs inte emot, {left} kvar av {total}",
                     "{stored} stored, {failed} not accepted, {left} left of {total}"),
        # A refused request, in the page's language (the answer's Message is the service's English).
        "refused": refusals.worded("refused", lang),
    }  # fmt: skip
