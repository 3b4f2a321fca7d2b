"""Ports: the interfaces services depend on. Adapters implement them; tests use in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO, Protocol

from chalicelib.domain.accounts import ApiKey, Clinic
from chalicelib.domain.deliveries import MessageOwner
from chalicelib.domain.keys import KeyRing, KeyStage
from chalicelib.domain.shares import AccessEvent, Attempts, Share, ShareCursor
from chalicelib.domain.staff import Challenge, Role, SignInStep, StaffIdentity, StaffMember, Tokens, TotpSetup
from chalicelib.domain.studies import Instance, Study, StudyQuery, Upload, UploadedFile
from chalicelib.domain.visits import Attachment, Message, Visit


class Clock(Protocol):
    """The current time; injected so that rules about time can be tested."""

    def now(self) -> datetime:
        """The current UTC time, timezone-aware."""
        ...


class ClinicRepository(Protocol):
    """Clinics by id."""

    def add(self, clinic: Clinic) -> None:
        """Store a new clinic; raises Conflict when the id is taken."""
        ...

    def get(self, clinic_id: str) -> Clinic:
        """The clinic with this id; raises NotFound."""
        ...

    def save(self, clinic: Clinic) -> Clinic:
        """Store a changed clinic if its stored version is still the one read; the clinic as written.

        Raises StaleWrite when another write came between, NotFound when it does not exist.
        """
        ...


class ApiKeyRepository(Protocol):
    """API keys by their public key id."""

    def add(self, key: ApiKey) -> None:
        """Store a new key; raises Conflict when the key id is taken."""
        ...

    def get(self, key_id: str) -> ApiKey:
        """The key with this id; raises NotFound."""
        ...

    def save(self, key: ApiKey) -> None:
        """Store a changed key (e.g. revoked); raises NotFound when it does not exist."""
        ...


class SingleUse(Protocol):
    """What may be used once only (a clinician's chat ticket…): the first use is recorded, any later refused."""

    def use(self, use_id: str, keep_until: datetime) -> None:
        """Record the use of ``use_id``, remembered at least until ``keep_until``.

        Atomic: of any number of uses of one id, at once or one after another, exactly one returns; the
        others raise Conflict.
        """
        ...

    def used(self, use_id: str) -> bool:
        """Whether ``use_id`` has been used (read strongly consistent: a use just recorded counts)."""
        ...


@dataclass(frozen=True)
class PresignedPost:
    """A browser- or client-usable S3 POST: send ``fields`` plus the file as multipart/form-data to ``url``."""

    url: str
    fields: dict[str, str]


class ObjectStore(Protocol):
    """S3 objects. Readers are seekable and fetch only the byte ranges that are read."""

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """Store an object."""
        ...

    def open(self, bucket: str, key: str) -> BinaryIO:
        """A seekable reader of an object; raises NotFound."""
        ...

    def size(self, bucket: str, key: str) -> int:
        """The object's size in bytes; raises NotFound."""
        ...

    def download(self, bucket: str, key: str, path: str) -> None:
        """Copy an object to a local file without holding it in memory; raises NotFound."""
        ...

    def upload(self, bucket: str, key: str, path: str, content_type: str) -> None:
        """Store a local file as an object without holding it in memory."""
        ...

    def upload_stream(self, bucket: str, key: str, stream: BinaryIO, content_type: str) -> None:
        """Store what ``stream`` yields until its end, a few MB at a time (an object of any size)."""
        ...

    def move(self, bucket: str, source: str, target: str) -> None:
        """Move an object within a bucket; raises NotFound."""
        ...

    def delete(self, bucket: str, key: str) -> None:
        """Delete an object (deleting a missing one is not an error)."""
        ...

    def presigned_post(
        self, bucket: str, key: str, *, max_bytes: int, expires_s: int, content_type: str | None = None
    ) -> PresignedPost:
        """A pre-signed POST for exactly ``key``, 1..``max_bytes`` bytes (and the content type, if given)."""
        ...

    def presigned_get(
        self,
        bucket: str,
        key: str,
        *,
        expires_s: int,
        filename: str | None = None,
        inline: bool = True,
        content_type: str | None = None,
    ) -> str:
        """A pre-signed GET URL valid ``expires_s`` seconds.

        The response says ``Content-Disposition`` with ``filename`` when one is given, and ``Content-Type``
        ``content_type`` when one is given, whatever the object was stored with.
        """
        ...


class StudyIndex(Protocol):
    """Studies and instances, always within one clinic."""

    def put_instance(self, instance: Instance) -> Instance | None:
        """Store an instance; returns the one it replaced (same SOP Instance UID), if any."""
        ...

    def instances(self, clinic_id: str, study_instance_uid: str) -> list[Instance]:
        """Every instance of a study, ordered by series and instance number."""
        ...

    def put_study(self, study: Study) -> Study:
        """Store a study summary made from the one read at ``study.version`` (0: none yet); the stored one.

        Raises StaleWrite when another summary was written since.
        """
        ...

    def get_study(self, clinic_id: str, study_instance_uid: str) -> Study:
        """A study of the clinic; raises NotFound (also for another clinic's study)."""
        ...

    def search(self, clinic_id: str, query: StudyQuery) -> list[Study]:
        """The clinic's studies matching the query, newest study date first, paged by limit/offset."""
        ...


class UploadRepository(Protocol):
    """Uploads and the fate of each of their files."""

    def add(self, upload: Upload) -> None:
        """Store a new upload with its files."""
        ...

    def get(self, clinic_id: str, upload_id: str) -> Upload:
        """An upload of the clinic; raises NotFound (also for another clinic's upload)."""
        ...

    def save_file(self, upload_id: str, file: UploadedFile) -> None:
        """Record what became of one file."""
        ...


class Thumbnailer(Protocol):
    """Renders the small JPEG the clinic's screens show for an instance."""

    def render(self, source: BinaryIO) -> bytes | None:
        """A JPEG of the first frame of a DICOM stream, or None when it has no image it can show."""
        ...


class SendingCounter(Protocol):
    """E-mails and texts each clinic has sent per day, for its daily quota."""

    def reserve(self, clinic_id: str, day: date, messages: int, limit: int) -> bool:
        """Count ``messages`` more for the clinic's ``day`` if the day's total stays within ``limit``.

        Atomic: requests side by side never take the total past the limit. False (nothing counted) when
        there is no room.
        """
        ...

    def sent(self, clinic_id: str, day: date) -> int:
        """How many were counted for the clinic's ``day``."""
        ...


@dataclass(frozen=True)
class SharePage:
    """Some of a clinic's shares, newest first, and where the next page starts (None: there are no more)."""

    shares: tuple[Share, ...]
    next: ShareCursor | None


class ShareRepository(Protocol):
    """Shares, found by id, by link token hash, by study (the share history), or by clinic (newest first)."""

    def add(self, share: Share) -> None:
        """Store a new share."""
        ...

    def get(self, share_id: str) -> Share:
        """A share by id; raises NotFound."""
        ...

    def by_token_hash(self, token_hash: str) -> Share:
        """The share a link token opens; raises NotFound."""
        ...

    def save(self, share: Share) -> Share:
        """Store a share changed from the one read at ``share.version``; the stored share, one version on.

        Everything but ``share.attempts`` is written (those change only through ``take_attempt`` and
        ``clear_attempts``). Raises StaleWrite when the share was written since it was read, NotFound when
        it does not exist.
        """
        ...

    def take_attempt(self, share_id: str, now: datetime) -> Attempts:
        """Count one attempt at the share's secret, before it is checked: ``Attempts.taken``, atomically.

        Raises LinkLocked while a lock is in force (the attempt must not be checked), NotFound.
        """
        ...

    def clear_attempts(self, share_id: str, now: datetime) -> None:
        """After a right secret: ``Attempts.cleared``, atomically (a lock in force stays)."""
        ...

    def lift_lock(self, share_id: str, now: datetime) -> bool:
        """An administrator lifts a lock in force: ``Attempts.lifted``, in one conditional write (never a read
        and a write, which could undo an attempt counted between them). False when no lock was in force."""
        ...

    def for_study(self, clinic_id: str, study_instance_uid: str) -> list[Share]:
        """Every share of one study of the clinic, newest first."""
        ...

    def for_clinic(self, clinic_id: str, *, limit: int, after: ShareCursor | None = None) -> SharePage:
        """At most ``limit`` of the clinic's shares, newest first, from ``after`` on (read from an index: no scan).

        ``next`` is set whenever the page is full (the following page may then be empty), None once it is not.
        """
        ...


class AccessLog(Protocol):
    """Every use of a share's link, for its history and for audit."""

    def record(self, event: AccessEvent, keep_until: datetime) -> None:
        """Keep one event at least until ``keep_until`` (the link's expiry)."""
        ...

    def for_share(self, share_id: str) -> list[AccessEvent]:
        """A share's events, oldest first."""
        ...


class JobQueue(Protocol):
    """Work handed to a worker through SQS."""

    def send(self, queue: str, message: dict[str, str]) -> None:
        """Queue one job on one of our queues, by short name ("share"); the message holds opaque ids only."""
        ...


@dataclass(frozen=True)
class Email:
    """One e-mail to one recipient: a plain-text and an HTML body, sent under a display name.

    The sending address is the deployment's own (``SENDER_EMAIL``); ``sender_name`` is what the
    recipient sees, usually the clinic's name. Subjects never carry patient data.
    """

    to: str
    sender_name: str
    subject: str
    text: str
    html: str


class Mailer(Protocol):
    """Sends e-mail (SES)."""

    def send(self, email: Email) -> str:
        """Send one e-mail; returns the provider's message id. Raises DeliveryFailed with the provider's code."""
        ...


class MessageIndex(Protocol):
    """Which delivery each message the providers accepted belongs to, for their later events."""

    def remember(self, message_id: str, owner: MessageOwner, keep_until: datetime) -> None:
        """Keep ``message_id`` → ``owner`` at least until ``keep_until``."""
        ...

    def owner_of(self, message_id: str) -> MessageOwner | None:
        """The delivery a message id belongs to; None for a message we do not follow (or forgot)."""
        ...


class SmsSender(Protocol):
    """Sends text messages to mobile phones (SNS)."""

    def is_opted_out(self, phone: str) -> bool:
        """Whether an E.164 number has opted out of text messages: nothing may then be sent to it."""
        ...

    def send(self, phone: str, text: str) -> str:
        """Send one transactional text message; returns the message id. Raises DeliveryFailed."""
        ...


class VisitRepository(Protocol):
    """Visits by id or by the hash of their patient link."""

    def add(self, visit: Visit) -> None:
        """Store a new visit; raises Conflict when the id is taken."""
        ...

    def get(self, visit_id: str) -> Visit:
        """A visit by id (of any clinic: callers check); raises NotFound."""
        ...

    def find_by_link(self, link_hash: str) -> Visit:
        """The visit a patient link opens; raises NotFound."""
        ...

    def save(self, visit: Visit) -> Visit:
        """Store a visit's status, closure, expiry and deliveries, changed from the one read at ``visit.version``.

        Returns the stored visit, one version on. Raises StaleWrite when the visit was written since it
        was read (``versioned.update`` then redoes the change), NotFound when it does not exist.
        """
        ...

    def next_seq(self, visit_id: str) -> int:
        """The next message number of an open visit (atomic: 1, 2, 3…); raises Conflict once it is closed."""
        ...

    def open_for_clinic(self, clinic_id: str, limit: int) -> list[Visit]:
        """At most ``limit`` of the clinic's open visits, newest first (from an index of open visits only)."""
        ...

    def mark_read(self, visit_id: str, seq: int) -> None:
        """Raise the visit's ``clinician_read_seq`` to ``seq``; a lower or equal ``seq`` changes nothing (a
        conditional write: two pages reading at once never lower it)."""
        ...


class MessageRepository(Protocol):
    """The chat messages of visits, in order, with the attachments they carry."""

    def add(self, message: Message) -> None:
        """Store a new message (its number from ``VisitRepository.next_seq``)."""
        ...

    def after(self, visit_id: str, after: int, limit: int) -> list[Message]:
        """At most ``limit`` messages numbered above ``after``, in order."""
        ...

    def attachment(self, visit_id: str, attachment_id: str) -> Message:
        """The message carrying one attachment of the visit; raises NotFound."""
        ...

    def attachments(self, visit_id: str) -> list[Message]:
        """Every message of the visit that carries an attachment, in order."""
        ...

    def save_attachment(self, read: Message, attachment: Attachment) -> None:
        """Store what became of the attachment of ``read``, the message as it was read (status, checked type, saved).

        Only onto the row as read: raises StaleWrite when its attachment's status or saved mark, or its
        expiry (a close gives every message a new one), changed since; NotFound when there is no such file.
        """
        ...

    def expire(self, visit_id: str, expires_at: datetime) -> None:
        """Give every message of the visit a new expiry (when the visit closes)."""
        ...

    def count_from_patient(self, visit_id: str, after: int) -> int:
        """How many of the visit's messages numbered above ``after`` the patient sent."""
        ...


class SigningKeys(Protocol):
    """The deployment's signing key, kept in a secret store with versions (Secrets Manager).

    Only the functions that sign or verify (the API, the share and delivery workers) and the rotation
    function may read it; the key never passes through the environment.
    """

    def key_ring(self, *, refresh: bool = False) -> KeyRing:
        """The current and previous keys, as read at most a few minutes ago.

        ``refresh``: read them again now, for a caller that met a value no key of the ring explains (a
        rotation since the last read). Forced reads are rationed: one made shortly before is served again,
        so forged values cannot turn into a flood of reads.
        """
        ...

    def stages(self, version: str) -> frozenset[KeyStage]:
        """Where a version of the key stands (empty for a version the store does not know)."""
        ...

    def key(self, version: str) -> bytes | None:
        """A version's key material; None while the version has none (a rotation's placeholder)."""
        ...

    def put_pending(self, version: str, key: bytes) -> None:
        """Store ``key`` as the pending ``version`` (idempotent; a version holding a key is never given another)."""
        ...

    def promote(self, version: str) -> None:
        """Make ``version`` current; the current one becomes the previous (idempotent)."""
        ...


class StaffDirectory(Protocol):
    """Staff accounts and their sign-in, held by the identity provider (Amazon Cognito's user pool)."""

    def invite(self, email: str, clinic_id: str, role: Role, temporary_password: str | None = None) -> StaffMember:
        """Create an account that must choose its password at first sign-in; raises Conflict when the e-mail is
        taken. Without ``temporary_password`` the provider makes one and e-mails it with the invitation."""
        ...

    def members(self, clinic_id: str) -> list[StaffMember]:
        """The clinic's staff, by e-mail."""
        ...

    def get(self, staff_id: str) -> StaffMember:
        """The member with this id; raises NotFound."""
        ...

    def set_password(self, staff_id: str, password: str) -> None:
        """Give the member a permanent password (no change asked at first sign-in): the local stack's demo admin.
        Raises NotFound, or InvalidInput for a password the pool's policy refuses."""
        ...

    def set_enabled(self, staff_id: str, enabled: bool) -> None:
        """Disable (which also revokes every refresh token of the member) or re-enable; raises NotFound."""
        ...

    def sign_in(self, email: str, password: str) -> SignInStep:
        """Tokens, or the challenge to answer first; raises SignInFailed (a disabled member too)."""
        ...

    def answer(self, challenge: Challenge, response: str) -> SignInStep:
        """Answer a challenge (the new password, or the TOTP code); raises SignInFailed, or InvalidInput for a
        password the pool's policy refuses."""
        ...

    def verify(self, id_token: str, now: datetime) -> StaffIdentity:
        """Who an ID token names, checked against the pool's keys: signature, issuer, client, use, expiry.
        Raises InvalidToken."""
        ...

    def refresh(self, refresh_token: str) -> Tokens:
        """New ID and access tokens for a live refresh token (which stays the same); raises InvalidToken once
        it is revoked or expired, or the member is disabled."""
        ...

    def sign_out(self, staff_id: str) -> None:
        """Revoke every refresh token of the member, so no new ID token can be had with them; raises NotFound."""
        ...

    def start_totp(self, email: str, password: str) -> TotpSetup:
        """Begin setting up an authenticator app: sign in with the password again (the provider's access token
        for the set-up) and have the provider make the shared secret. Raises SignInFailed for a wrong password
        or a disabled member, TotpAlreadyOn when sign-in already asks for a code."""
        ...

    def confirm_totp(self, staff_id: str, setup: TotpSetup, code: str) -> None:
        """Finish the set-up with a code the app shows: from now on sign-in asks for a code (TOTP is the
        member's preferred second step). Raises WrongTotpCode, or SignInFailed once the set-up's access
        token has expired or been revoked."""
        ...
