"""The API's JSON answers, declared once.

Each route builds its answer as one of these models and ``api/responses.py`` encodes it, so what the
OpenAPI document (``api/openapi.py``) publishes as the operation's success schema is what the route
sends: the two come from the same class and cannot drift apart. The models carry no rules; the views
that fill them (``api/views.py``, ``shares.share_view``…) choose what a caller may see.

Fields that are ``None`` are sent as ``null``; fields that are ``UNSET`` are left out (a share's
``verdicts`` when they are not known, the chat's ``contacts`` for the patient).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

from chalicelib.domain.contacts import ContactKind
from chalicelib.domain.deliveries import Bounce, DeliveryStatus
from chalicelib.domain.studies import FileStatus
from chalicelib.domain.verdicts import Verdict
from chalicelib.domain.visits import AttachmentStatus, Role, VisitStatus
from chalicelib.media.attachment_types import Family

#: A moment, as ISO 8601 with its offset.
Moment = Annotated[str, Meta(description="ISO 8601 date and time with offset")]
#: The value representations of DICOM attributes whose values are text.
TextVR = Literal["DA", "TM", "SH", "LO", "CS", "UI", "UR"]
#: Words in both of the service's languages.
BothLanguages = Annotated[dict[str, str], Meta(description="The same words in Swedish (sv) and English (en)")]


class Answer(Struct, kw_only=True, forbid_unknown_fields=True):
    """A JSON answer's shape, published in the OpenAPI document (the API tests hold the routes to it)."""


class PresignedPostAnswer(Answer):
    """Where to POST one file, and the form fields to send before it (a pre-signed S3 POST)."""

    url: str
    fields: dict[str, str]


# ------------------------------------------------------------------------------------------- service


class Health(Answer):
    """``GET /health``."""

    status: Literal["ok"]
    stage: str


class OpenApiDocument(Answer):
    """``GET /openapi.json``: an OpenAPI 3.1 document (its parts are described by OpenAPI itself)."""

    openapi: str
    info: dict[str, Any]
    servers: list[dict[str, Any]]
    paths: dict[str, Any]
    components: dict[str, Any]


# ------------------------------------------------------------------------------------------- clinic


class ClinicAnswer(Answer):
    """The clinic the API key belongs to."""

    clinic_id: str
    name: str
    created_at: Moment


class SettingsAnswer(Answer):
    """The clinic's link settings (whether a link code is set, never the code)."""

    link_code_set: bool
    link_lifetime_days: int
    language: str
    sms_country: str
    daily_message_limit: int


# ------------------------------------------------------------------------------------------- studies


class PatientContacts(Answer):
    """The contacts the study's own header carries."""

    phones: list[str]
    emails: list[str]


class StudyAnswer(Answer):
    """A study as the console shows it (DICOM values as text, empty when the header has none)."""

    study_instance_uid: str
    patient_name: str
    patient_id: str
    patient_birth_date: str
    study_date: str
    study_time: str
    accession_number: str
    study_description: str
    modalities: list[str]
    number_of_series: int
    number_of_instances: int
    patient_contacts: PatientContacts


class StudyList(Answer):
    """``GET /studies``: a page of the clinic's studies."""

    studies: list[StudyAnswer]
    limit: int
    offset: int


class InstanceAnswer(Answer):
    """An instance, with a short-lived thumbnail URL when it has one."""

    sop_instance_uid: str
    sop_class_uid: str
    instance_number: int | None
    number_of_frames: int
    transfer_syntax_uid: str
    rows: int | None
    columns: int | None
    size: int
    thumbnail_url: str | None


class SeriesAnswer(Answer):
    """A series of a study and its instances."""

    series_instance_uid: str
    modality: str
    series_number: int | None
    series_description: str
    instances: list[InstanceAnswer]


class StudyDetail(StudyAnswer):
    """``GET /studies/{uid}``: the study with its series."""

    series: list[SeriesAnswer]


class UploadedFileAnswer(Answer):
    """One file of an upload and its fate."""

    index: int
    status: FileStatus
    reason: str | None
    study_instance_uid: str | None
    sop_instance_uid: str | None


class RequestedFile(UploadedFileAnswer):
    """A file of a new upload, with the form to POST it with."""

    upload: PresignedPostAnswer


class ExplainedFile(UploadedFileAnswer):
    """A file of an upload, with why it failed in the console page's language."""

    explanation: str | None


class UploadAnswer(Answer):
    """``GET /studies/uploads/{id}``: an upload and each file's fate."""

    upload_id: str
    created_at: Moment
    expires_at: Moment
    files: list[UploadedFileAnswer]


class RequestedUpload(Answer):
    """``POST /studies/uploads``: a new upload, each file with the pre-signed POST to send it with."""

    upload_id: str
    created_at: Moment
    expires_at: Moment
    files: list[RequestedFile]


class ExplainedUpload(Answer):
    """The console's upload page asks what became of its files."""

    upload_id: str
    created_at: Moment
    expires_at: Moment
    files: list[ExplainedFile]


class ContactsVerdict(Answer):
    """The console checks contacts as they are typed: every bad one, in the page's language."""

    valid: bool
    problems: list[str]


# ------------------------------------------------------------------------------------------- shares


class VerdictAnswer(Answer):
    """What the anonymizer does with one instance, known before the share is prepared."""

    sop_instance_uid: str
    verdict: Annotated[
        Verdict,
        Meta(description="anonymized; password: sent as it is, so the link asks for the patient's password; unknown"),
    ]
    reason: Annotated[str, Meta(description="The anonymizer's reason code (or not_assessed)")]


class DeliveryAnswer(Answer):
    """One contact of a share and how its message fared."""

    position: int
    kind: ContactKind
    address: str
    status: DeliveryStatus
    bounce: Bounce | None
    reason: str | None
    attempts: int
    sent_at: Moment | None
    updated_at: Moment | None
    advice: BothLanguages | None


class ShareAnswer(Answer):
    """``DELETE /shares/{id}``: a share as the history shows it; contacts are the clinic's own data."""

    share_id: str
    study_instance_uid: str
    instances: list[str] | None
    status: Annotated[str, Meta(description="queued, ready or failed while the link lives; else expired or deleted")]
    created_at: Moment
    last_sent_at: Moment | None
    expires_at: Moment
    deleted_at: Moment | None
    language: str
    needs_password: Annotated[
        bool | None,
        Meta(description="Whether the link asks for the patient's password: null while a verdict is not known"),
    ]
    needs_link_code: bool
    deliveries: list[DeliveryAnswer]
    can_resend: bool
    can_delete: bool


class SentShare(ShareAnswer):
    """``POST /studies/{uid}/shares``: the queued share and what it does with each instance."""

    verdicts: list[VerdictAnswer]
    resent: bool
    warnings: list[str]


class SkippedContact(Answer):
    """A contact a resend does not reach: its address hard-bounced or complained."""

    position: int
    kind: ContactKind
    status: DeliveryStatus
    bounce: Bounce | None


class ResentShare(ShareAnswer):
    """``POST /shares/{id}/resend``: the share, and the contacts the message was not sent to again."""

    skipped: list[SkippedContact]


class ShareEntry(ShareAnswer):
    """A share in a list, with how often its link was opened and its files downloaded."""

    opens: int
    downloads: int
    last_opened_at: Moment | None
    verdicts: list[VerdictAnswer] | UnsetType = UNSET


class ShareHistory(Answer):
    """``GET /studies/{uid}/shares``: the study's shares, newest first."""

    shares: list[ShareEntry]


class SharePage(Answer):
    """``GET /shares``: a page of the clinic's shares, newest first; ``next_cursor`` continues it."""

    shares: list[ShareEntry]
    next_cursor: str | None


# ------------------------------------------------------------------------------------------- visits


class VisitContact(Answer):
    """A contact of a visit, by position and kind only, and how its message fared."""

    position: int
    kind: ContactKind
    status: DeliveryStatus
    bounce: Bounce | None
    reason: str | None
    updated_at: Moment | None


class FileEntry(Answer):
    """A kept file of a visit: who sent it, when, what, and where to get it."""

    attachment_id: str
    sender: Role
    clinician: str | None
    sent_at: Moment
    filename: str
    content_type: str | None
    family: Family | None
    size: int | None
    download_url: str
    saved: bool
    saved_at: Moment | None
    saved_by: str | None


class VisitFiles(Answer):
    """How many files the visit keeps, and those not yet saved into the medical record."""

    kept: int
    unsaved: list[FileEntry]


class VisitAnswer(Answer):
    """A visit: its state, each contact's delivery, and the kept files not yet saved."""

    visit_id: str
    status: VisitStatus
    created_at: Moment
    created_by: str
    closed_at: Moment | None
    closed_by: str | None
    expires_at: Moment
    contacts: list[VisitContact]
    files: VisitFiles


class Reminder(Answer):
    """What to save into the medical record when a visit closes."""

    files: list[FileEntry]
    advice: BothLanguages


class ClosedVisit(Answer):
    """A closed visit, and the reminder of the files to save."""

    visit: VisitAnswer
    reminder: Reminder


class AttachmentAnswer(Answer):
    """A chat message's file; its URLs are there once it is ready."""

    attachment_id: str
    filename: str
    content_type: str
    family: Family | None
    size: int
    status: AttachmentStatus
    reason: str | None
    reason_code: str | None
    saved: bool
    url: str | None
    preview_url: str | None


class MessageAnswer(Answer):
    """One chat message; its text is as written, so whoever shows it must escape it."""

    seq: int
    sender: Role
    clinician: Annotated[str | None, Meta(description="The clinician's staff id, for the clinic only")]
    mine: bool
    sent_at: Moment
    text: str | None
    attachment: AttachmentAnswer | None


class ChatState(Answer):
    """The visit's state as the chat shows it (``contacts``: whom the link went to, for the clinician's page)."""

    status: VisitStatus
    closed_at: Moment | None
    expires_at: Moment
    contacts: list[str] | UnsetType = UNSET


class MessagePage(Answer):
    """A page of the chat, oldest first; ``next`` is the ``after`` to ask with next."""

    messages: list[MessageAnswer]
    next: int
    more: bool
    visit: ChatState


class RequestedAttachment(Answer):
    """An announced file: its id, its pending message, and the form to POST it with."""

    attachment_id: str
    message: MessageAnswer
    upload: PresignedPostAnswer


class ChatLink(Answer):
    """A link that opens the visit's chat page in the clinician's browser, once, until ``expires_at``."""

    url: str
    expires_at: Moment


# ------------------------------------------------------------------------------------------- DICOMweb


class TextAttribute(Answer):
    """A DICOM JSON attribute of a text VR (DA, TM, SH, LO, CS, UI, UR); no ``Value`` when the header has none."""

    vr: TextVR
    Value: list[str] | UnsetType = UNSET


class CodeAttribute(Answer):
    """A DICOM JSON attribute of VR US (a failure reason, PS3.18 Table I.2-1)."""

    vr: Literal["US"]
    Value: list[int]


class ReferencedSop(Answer):
    """A ReferencedSOPSequence item: a stored instance and where WADO-RS retrieves it."""

    sop_class_uid: TextAttribute = field(name="00081150")
    sop_instance_uid: TextAttribute = field(name="00081155")
    retrieve_url: TextAttribute = field(name="00081190")


class FailedSop(Answer):
    """A FailedSOPSequence item: the failure reason, and the instance when it could be read."""

    failure_reason: CodeAttribute = field(name="00081197")
    sop_class_uid: TextAttribute | UnsetType = field(name="00081150", default=UNSET)
    sop_instance_uid: TextAttribute | UnsetType = field(name="00081155", default=UNSET)


class ReferencedSequence(Answer):
    """ReferencedSOPSequence (0008,1199)."""

    vr: Literal["SQ"]
    Value: list[ReferencedSop]


class FailedSequence(Answer):
    """FailedSOPSequence (0008,1198)."""

    vr: Literal["SQ"]
    Value: list[FailedSop]


class NumberAttribute(Answer):
    """A DICOM JSON attribute of VR IS."""

    vr: Literal["IS"]
    Value: list[int] | UnsetType = UNSET


class PersonName(Answer):
    """A DICOM JSON person name (its alphabetic group)."""

    Alphabetic: str


class NameAttribute(Answer):
    """A DICOM JSON attribute of VR PN."""

    vr: Literal["PN"]
    Value: list[PersonName] | UnsetType = UNSET


class QidoStudy(Answer):
    """A QIDO-RS study result (PS3.18 10.6.3): the study-level attributes this service indexes, by tag."""

    study_date: TextAttribute = field(name="00080020")
    study_time: TextAttribute = field(name="00080030")
    accession_number: TextAttribute = field(name="00080050")
    modalities_in_study: TextAttribute = field(name="00080061")
    study_description: TextAttribute = field(name="00081030")
    retrieve_url: TextAttribute = field(name="00081190")
    patient_name: NameAttribute = field(name="00100010")
    patient_id: TextAttribute = field(name="00100020")
    patient_birth_date: TextAttribute = field(name="00100030")
    study_instance_uid: TextAttribute = field(name="0020000D")
    number_of_series: NumberAttribute = field(name="00201206")
    number_of_instances: NumberAttribute = field(name="00201208")


class StowAnswer(Answer):
    """A STOW-RS answer (PS3.18 10.5.3): the study's RetrieveURL when one study was stored, what was stored,
    what failed. 200 when all was stored, 202 when some failed, 409 when all failed."""

    retrieve_url: TextAttribute | UnsetType = field(name="00081190", default=UNSET)
    referenced: ReferencedSequence | UnsetType = field(name="00081199", default=UNSET)
    failed: FailedSequence | UnsetType = field(name="00081198", default=UNSET)
