"""In-memory fakes of the ports, with inspectable state. ``tests/contract`` keeps them honest."""

from __future__ import annotations

import base64
import io
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import BinaryIO
from urllib.parse import quote
from uuid import uuid4

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer, DataRecord

from chalicelib.domain.accounts import ApiKey, Clinic
from chalicelib.domain.deliveries import MessageOwner
from chalicelib.domain.errors import Conflict, DeliveryFailed, InvalidInput, NotFound, StaleWrite
from chalicelib.domain.keys import KeyRing, KeyStage
from chalicelib.domain.shares import AccessEvent, Attempts, Share, ShareCursor
from chalicelib.domain.staff import (
    Challenge,
    ChallengeName,
    InvalidToken,
    Role,
    SignInFailed,
    SignInStep,
    StaffExists,
    StaffIdentity,
    StaffMember,
    Tokens,
    TotpAlreadyOn,
    TotpSetup,
    WrongTotpCode,
)
from chalicelib.domain.studies import Instance, Study, StudyQuery, Upload, UploadedFile, instance_order, study_sort_key
from chalicelib.domain.visits import Attachment, Message, Visit, VisitStatus
from chalicelib.domain.visits import Role as VisitRole
from chalicelib.services.deps import Buckets, Deps, Site, VisitPolicy
from chalicelib.services.ports import Email, PresignedPost, SharePage


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


class InMemoryClinicRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Clinic] = {}
        self._lock = threading.Lock()

    def add(self, clinic: Clinic) -> None:
        if clinic.clinic_id in self.rows:
            raise Conflict("A clinic with this id exists already")
        self.rows[clinic.clinic_id] = clinic

    def get(self, clinic_id: str) -> Clinic:
        try:
            return self.rows[clinic_id]
        except KeyError:
            raise NotFound("No such clinic") from None

    def save(self, clinic: Clinic) -> Clinic:
        with self._lock:
            stored = self.rows.get(clinic.clinic_id)
            if stored is None:
                raise NotFound("No such clinic")
            if stored.version != clinic.version:
                raise StaleWrite("The clinic was changed by another request")
            self.rows[clinic.clinic_id] = replace(clinic, version=clinic.version + 1)
            return self.rows[clinic.clinic_id]


class InMemorySendingCounter:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, date], int] = {}
        self._lock = threading.Lock()

    def reserve(self, clinic_id: str, day: date, messages: int, limit: int) -> bool:
        with self._lock:
            sent = self.counts.get((clinic_id, day), 0)
            if sent + messages > limit:
                return False
            self.counts[(clinic_id, day)] = sent + messages
            return True

    def sent(self, clinic_id: str, day: date) -> int:
        return self.counts.get((clinic_id, day), 0)


class InMemoryApiKeyRepository:
    def __init__(self) -> None:
        self.rows: dict[str, ApiKey] = {}

    def add(self, key: ApiKey) -> None:
        if key.key_id in self.rows:
            raise Conflict("An API key with this id exists already")
        self.rows[key.key_id] = key

    def get(self, key_id: str) -> ApiKey:
        try:
            return self.rows[key_id]
        except KeyError:
            raise NotFound("No such API key") from None

    def save(self, key: ApiKey) -> None:
        if key.key_id not in self.rows:
            raise NotFound("No such API key")
        self.rows[key.key_id] = key


class InMemoryObjectStore:
    """Objects in a dict; pre-signed URLs are ``memory://`` URLs that name what they grant."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, str]] = {}

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self.objects[(bucket, key)] = (bytes(body), content_type)

    def open(self, bucket: str, key: str) -> BinaryIO:
        return io.BytesIO(self._get(bucket, key)[0])

    def size(self, bucket: str, key: str) -> int:
        return len(self._get(bucket, key)[0])

    def download(self, bucket: str, key: str, path: str) -> None:
        with open(path, "wb") as file:
            file.write(self._get(bucket, key)[0])

    def upload(self, bucket: str, key: str, path: str, content_type: str) -> None:
        with open(path, "rb") as file:
            self.put(bucket, key, file.read(), content_type)

    def upload_stream(self, bucket: str, key: str, stream: BinaryIO, content_type: str) -> None:
        self.put(bucket, key, stream.read(), content_type)

    def move(self, bucket: str, source: str, target: str) -> None:
        self.objects[(bucket, target)] = self._get(bucket, source)
        del self.objects[(bucket, source)]

    def delete(self, bucket: str, key: str) -> None:
        self.objects.pop((bucket, key), None)

    def presigned_post(
        self, bucket: str, key: str, *, max_bytes: int, expires_s: int, content_type: str | None = None
    ) -> PresignedPost:
        fields = {"key": key, "max_bytes": str(max_bytes), "expires_s": str(expires_s)}
        if content_type is not None:
            fields["Content-Type"] = content_type
        return PresignedPost(url=f"memory://{bucket}", fields=fields)

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
        disposition = (
            "" if filename is None else f"&disposition={'inline' if inline else 'attachment'}:{quote(filename)}"
        )
        served_type = "" if content_type is None else f"&type={quote(content_type, safe='')}"
        return f"memory://{bucket}/{key}?expires={expires_s}{disposition}{served_type}"

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))

    def _get(self, bucket: str, key: str) -> tuple[bytes, str]:
        try:
            return self.objects[(bucket, key)]
        except KeyError:
            raise NotFound("No such object") from None


class InMemoryStudyIndex:
    def __init__(self) -> None:
        self.instance_rows: dict[tuple[str, str, str], Instance] = {}  # clinic, study, "series#sop"
        self.study_rows: dict[tuple[str, str], Study] = {}

    def put_instance(self, instance: Instance) -> Instance | None:
        h = instance.header
        key = (instance.clinic_id, h.study_instance_uid, f"{h.series_instance_uid}#{h.sop_instance_uid}")
        previous = self.instance_rows.get(key)
        self.instance_rows[key] = instance
        return previous

    def instances(self, clinic_id: str, study_instance_uid: str) -> list[Instance]:
        found = [i for (c, s, _), i in self.instance_rows.items() if (c, s) == (clinic_id, study_instance_uid)]
        return sorted(found, key=instance_order)

    def put_study(self, study: Study) -> Study:
        key = (study.clinic_id, study.study_instance_uid)
        current = self.study_rows.get(key)
        if (current.version if current is not None else 0) != study.version:
            raise StaleWrite("The study summary has been written since it was read")
        self.study_rows[key] = stored = replace(study, version=study.version + 1)
        return stored

    def get_study(self, clinic_id: str, study_instance_uid: str) -> Study:
        try:
            return self.study_rows[(clinic_id, study_instance_uid)]
        except KeyError:
            raise NotFound("No such study") from None

    def search(self, clinic_id: str, query: StudyQuery) -> list[Study]:
        found = [s for (c, _), s in self.study_rows.items() if c == clinic_id and query.matches(s)]
        found.sort(key=study_sort_key, reverse=True)
        return found[query.offset : query.offset + query.limit]


class InMemoryUploadRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Upload] = {}

    def add(self, upload: Upload) -> None:
        self.rows[upload.upload_id] = upload

    def get(self, clinic_id: str, upload_id: str) -> Upload:
        upload = self.rows.get(upload_id)
        if upload is None or upload.clinic_id != clinic_id:
            raise NotFound("No such upload")
        return upload

    def save_file(self, upload_id: str, file: UploadedFile) -> None:
        upload = self.rows.get(upload_id)
        if upload is None or all(f.index != file.index for f in upload.files):
            raise NotFound("No such upload")
        files = tuple(file if f.index == file.index else f for f in upload.files)
        self.rows[upload_id] = replace(upload, files=files)


class FakeThumbnailer:
    """Renders a recognisable stand-in JPEG and remembers what it was asked to render."""

    def __init__(self) -> None:
        self.rendered = 0

    def render(self, source: BinaryIO) -> bytes | None:
        self.rendered += 1
        return b"\xff\xd8thumbnail\xff\xd9"


class InMemoryShareRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Share] = {}
        self._lock = threading.RLock()  # the table's atomic writes, for tests that race threads

    def add(self, share: Share) -> None:
        if share.share_id in self.rows:
            raise Conflict("A share with this id exists already")
        self.rows[share.share_id] = share

    def get(self, share_id: str) -> Share:
        try:
            return self.rows[share_id]
        except KeyError:
            raise NotFound("No such share") from None

    def by_token_hash(self, token_hash: str) -> Share:
        for share in self.rows.values():
            if share.token_hash == token_hash:
                return share
        raise NotFound("No such link")

    def save(self, share: Share) -> Share:
        with self._lock:
            current = self.get(share.share_id)
            if current.version != share.version:
                raise StaleWrite("The share has been changed since it was read")
            stored = replace(share, version=share.version + 1)
            self.rows[share.share_id] = replace(stored, attempts=current.attempts)
            return stored

    def take_attempt(self, share_id: str, now: datetime) -> Attempts:
        with self._lock:
            current = self.get(share_id)
            taken = current.attempts.taken(now)
            self.rows[share_id] = replace(current, attempts=taken)
            return taken

    def clear_attempts(self, share_id: str, now: datetime) -> None:
        with self._lock:
            current = self.rows.get(share_id)
            if current is not None:
                self.rows[share_id] = replace(current, attempts=current.attempts.cleared(now))

    def lift_lock(self, share_id: str, now: datetime) -> bool:
        with self._lock:
            current = self.rows.get(share_id)
            if current is None or not current.attempts.locked(now):
                return False
            self.rows[share_id] = replace(current, attempts=current.attempts.lifted(now))
            return True

    def for_study(self, clinic_id: str, study_instance_uid: str) -> list[Share]:
        found = [
            s for s in self.rows.values() if (s.clinic_id, s.study_instance_uid) == (clinic_id, study_instance_uid)
        ]
        return sorted(found, key=lambda s: s.created_at, reverse=True)

    def for_clinic(self, clinic_id: str, *, limit: int, after: ShareCursor | None = None) -> SharePage:
        found = sorted(
            (s for s in self.rows.values() if s.clinic_id == clinic_id and (after is None or after.comes_before(s))),
            key=lambda s: (s.created_at, s.share_id),
            reverse=True,
        )[:limit]
        return SharePage(tuple(found), ShareCursor.after(found[-1]) if len(found) == limit else None)


class InMemoryMessageIndex:
    def __init__(self) -> None:
        self.owners: dict[str, tuple[MessageOwner, datetime]] = {}

    def remember(self, message_id: str, owner: MessageOwner, keep_until: datetime) -> None:
        self.owners[message_id] = (owner, keep_until)

    def owner_of(self, message_id: str) -> MessageOwner | None:
        found = self.owners.get(message_id)
        return found[0] if found is not None else None


class InMemoryAccessLog:
    def __init__(self) -> None:
        self.events: list[AccessEvent] = []

    def record(self, event: AccessEvent, keep_until: datetime) -> None:
        self.events.append(event)

    def for_share(self, share_id: str) -> list[AccessEvent]:
        return sorted((e for e in self.events if e.share_id == share_id), key=lambda e: e.at)


class FakeJobQueue:
    """Keeps what was queued, per queue, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    def send(self, queue: str, message: dict[str, str]) -> None:
        self.sent.append((queue, dict(message)))


class FakeMailer:
    """Keeps every e-mail sent; addresses in ``failing`` are refused as SES refuses (MessageRejected)."""

    def __init__(self) -> None:
        self.sent: list[Email] = []
        self.failing: set[str] = set()

    def send(self, email: Email) -> str:
        local, _, domain = email.to.partition("@")
        if not local or not domain:
            raise DeliveryFailed("InvalidParameterValue")
        if email.to in self.failing:
            raise DeliveryFailed("MessageRejected")
        self.sent.append(email)
        return f"fake-email-{len(self.sent)}"


class FakeSmsSender:
    """Keeps every text sent as ``(phone, text)``; ``opted_out`` and ``failing`` numbers behave as SNS's."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.opted_out: set[str] = set()
        self.failing: set[str] = set()
        self.checked: list[str] = []

    def is_opted_out(self, phone: str) -> bool:
        self.checked.append(phone)
        return phone in self.opted_out

    def send(self, phone: str, text: str) -> str:
        self._check_e164(phone)
        if phone in self.failing:
            raise DeliveryFailed("Throttling")
        self.sent.append((phone, text))
        return f"fake-sms-{len(self.sent)}"

    @staticmethod
    def _check_e164(phone: str) -> None:
        if not (phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16):
            raise DeliveryFailed("InvalidParameter")


class InMemoryVisitRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Visit] = {}
        self.seqs: dict[str, int] = {}
        self._lock = threading.RLock()

    def add(self, visit: Visit) -> None:
        if visit.visit_id in self.rows:
            raise Conflict("A visit with this id exists already")
        self.rows[visit.visit_id] = visit
        self.seqs[visit.visit_id] = 0

    def get(self, visit_id: str) -> Visit:
        try:
            return self.rows[visit_id]
        except KeyError:
            raise NotFound("No such visit") from None

    def find_by_link(self, link_hash: str) -> Visit:
        for visit in self.rows.values():
            if visit.link_hash == link_hash:
                return visit
        raise NotFound("No such visit")

    def save(self, visit: Visit) -> Visit:
        with self._lock:
            current = self.get(visit.visit_id)
            if current.version != visit.version:
                raise StaleWrite("The visit has been changed since it was read")
            # As DynamoDB's save, which leaves the read mark to mark_read's own conditional writes.
            stored = replace(visit, version=visit.version + 1, clinician_read_seq=current.clinician_read_seq)
            self.rows[visit.visit_id] = stored
            return stored

    def next_seq(self, visit_id: str) -> int:
        if self.get(visit_id).status is not VisitStatus.OPEN:
            raise Conflict("The visit is closed; nothing more can be sent")
        self.seqs[visit_id] += 1
        return self.seqs[visit_id]

    def open_for_clinic(self, clinic_id: str, limit: int) -> list[Visit]:
        mine = [v for v in self.rows.values() if v.clinic_id == clinic_id and v.status is VisitStatus.OPEN]
        return sorted(mine, key=lambda v: v.created_at, reverse=True)[:limit]

    def mark_read(self, visit_id: str, seq: int) -> None:
        with self._lock:
            visit = self.rows.get(visit_id)
            if visit is not None and seq > visit.clinician_read_seq:
                self.rows[visit_id] = replace(visit, clinician_read_seq=seq)


class InMemoryMessageRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], Message] = {}

    def add(self, message: Message) -> None:
        if (message.visit_id, message.seq) in self.rows:
            raise Conflict("A message with this number exists already")
        self.rows[(message.visit_id, message.seq)] = message

    def after(self, visit_id: str, after: int, limit: int) -> list[Message]:
        return sorted((m for (v, s), m in self.rows.items() if v == visit_id and s > after), key=lambda m: m.seq)[
            :limit
        ]

    def attachment(self, visit_id: str, attachment_id: str) -> Message:
        for message in self.attachments(visit_id):
            if message.attachment is not None and message.attachment.attachment_id == attachment_id:
                return message
        raise NotFound("No such file")

    def attachments(self, visit_id: str) -> list[Message]:
        return [m for m in self.after(visit_id, 0, 1 << 30) if m.attachment is not None]

    def save_attachment(self, read: Message, attachment: Attachment) -> None:
        message = self.rows.get((read.visit_id, read.seq))
        ids = {a.attachment_id for a in (attachment, read.attachment, message and message.attachment) if a}
        if message is None or message.attachment is None or read.attachment is None or len(ids) != 1:
            raise NotFound("No such file")
        # DynamoDB keeps the expiry (a TTL attribute) in whole seconds.
        as_read = (read.attachment.status, read.attachment.saved_at, int(read.expires_at.timestamp()))
        if (message.attachment.status, message.attachment.saved_at, int(message.expires_at.timestamp())) != as_read:
            raise StaleWrite("The file's message has changed since it was read")
        self.rows[(read.visit_id, read.seq)] = replace(message, attachment=attachment)

    def expire(self, visit_id: str, expires_at: datetime) -> None:
        for key, message in self.rows.items():
            if key[0] == visit_id:
                self.rows[key] = replace(message, expires_at=expires_at)

    def count_from_patient(self, visit_id: str, after: int) -> int:
        return sum(1 for m in self.after(visit_id, after, 1 << 30) if m.sender is VisitRole.PATIENT)


class InMemorySingleUse:
    """Uses by id, each with how long it is kept; atomic as DynamoDB's conditional put is."""

    def __init__(self) -> None:
        self.uses: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def use(self, use_id: str, keep_until: datetime) -> None:
        with self._lock:
            if use_id in self.uses:
                raise Conflict("It has been used already")
            self.uses[use_id] = keep_until

    def used(self, use_id: str) -> bool:
        with self._lock:
            return use_id in self.uses


class FakeSigningKeys:
    """The key's versions in a dict, labelled as Secrets Manager labels them.

    ``key_ring`` serves the ring it read last until asked to ``refresh`` (forced reads rationed as the
    adapter's are), as an instance of a Lambda serves the keys it cached.
    """

    def __init__(
        self,
        key: bytes = b"test-signing-key-" * 2,
        *,
        min_refresh_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.values: dict[str, bytes | None] = {"v0": key}
        self.labels: dict[KeyStage, str] = {KeyStage.CURRENT: "v0"}
        self.min_refresh_s = min_refresh_s
        self.monotonic = monotonic
        self.cached: KeyRing | None = None
        self.refreshed_at: float | None = None
        self.reads = 0

    def key_ring(self, *, refresh: bool = False) -> KeyRing:
        now = self.monotonic()
        if refresh and (self.refreshed_at is None or now - self.refreshed_at >= self.min_refresh_s):
            self.refreshed_at = now
            self.cached = None
        if self.cached is None:
            self.reads += 1
            previous = self.labels.get(KeyStage.PREVIOUS)
            current = self.values[self.labels[KeyStage.CURRENT]]
            assert current is not None
            self.cached = KeyRing(current, None if previous is None else self.values[previous])
        return self.cached

    def stages(self, version: str) -> frozenset[KeyStage]:
        return frozenset(stage for stage, labelled in self.labels.items() if labelled == version)

    def key(self, version: str) -> bytes | None:
        return self.values.get(version)

    def put_pending(self, version: str, key: bytes) -> None:
        self.values[version] = key
        self.labels[KeyStage.PENDING] = version

    def promote(self, version: str) -> None:
        if self.labels[KeyStage.CURRENT] != version:
            self.labels[KeyStage.PREVIOUS] = self.labels[KeyStage.CURRENT]
            self.labels[KeyStage.CURRENT] = version
        if self.labels.get(KeyStage.PENDING) == version:
            del self.labels[KeyStage.PENDING]


BUCKETS = Buckets(ingest="ingest-bucket", share="share-bucket", chat="chat-bucket")
VISIT_POLICY = VisitPolicy(public_base_url="https://share.example.org", retention_days=30)


class FakeStaffDirectory:
    """Staff accounts in a dict, with Cognito's rules: the first sign-in must choose a password that passes the
    pool's policy, TOTP once enabled, disabled members refused, tokens that expire and that sign-out revokes."""

    TOKEN_LIFETIME = timedelta(minutes=60)

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.members_by_id: dict[str, StaffMember] = {}
        self.passwords: dict[str, str] = {}
        self.totp_codes: dict[str, str] = {}
        """staff id → the one code its authenticator shows (tests set it with ``enable_totp``)."""
        self.sessions: dict[str, str] = {}
        self.id_tokens: dict[str, tuple[str, datetime]] = {}
        self.refresh_tokens: dict[str, str] = {}
        """refresh token → staff id, while not revoked."""
        self.invitations: list[str] = []
        """e-mail addresses the provider would have sent an invitation to."""
        self.totp_setups: dict[str, str] = {}
        """access token of a set-up under way → the secret its authenticator app was given."""

    def invite(self, email: str, clinic_id: str, role: Role, temporary_password: str | None = None) -> StaffMember:
        if "@" not in email:
            raise InvalidInput("The e-mail address or temporary password is not accepted")
        if any(m.email == email for m in self.members_by_id.values()):
            raise StaffExists("A staff member with this e-mail address exists")
        member = StaffMember(str(uuid4()), email, clinic_id, role, True, "FORCE_CHANGE_PASSWORD")
        self.members_by_id[member.staff_id] = member
        self.passwords[member.staff_id] = temporary_password or secrets.token_urlsafe(12)
        if temporary_password is None:
            self.invitations.append(email)
        return member

    def members(self, clinic_id: str) -> list[StaffMember]:
        return sorted((m for m in self.members_by_id.values() if m.clinic_id == clinic_id), key=lambda m: m.email)

    def get(self, staff_id: str) -> StaffMember:
        try:
            return self.members_by_id[staff_id]
        except KeyError:
            raise NotFound("No such staff member") from None

    def set_password(self, staff_id: str, password: str) -> None:
        member = self.get(staff_id)
        if not _meets_policy(password):
            raise InvalidInput("The password does not meet the password policy")
        self.passwords[staff_id] = password
        self.members_by_id[staff_id] = replace(member, status="CONFIRMED")

    def set_enabled(self, staff_id: str, enabled: bool) -> None:
        self.members_by_id[staff_id] = replace(self.get(staff_id), enabled=enabled)
        if not enabled:
            self._revoke(staff_id)

    def enable_totp(self, staff_id: str, code: str) -> None:
        """What associating and verifying an authenticator app does (with the one code it will show)."""
        self.totp_codes[staff_id] = code
        self.members_by_id[staff_id] = replace(self.get(staff_id), totp=True)

    def start_totp(self, email: str, password: str) -> TotpSetup:
        step = self.sign_in(email, password)
        if isinstance(step, Challenge):
            del self.sessions[step.session]
            if step.name is ChallengeName.TOTP:
                raise TotpAlreadyOn
            raise SignInFailed
        setup = TotpSetup(step.access_token, base64.b32encode(secrets.token_bytes(20)).decode())
        self.totp_setups[setup.access_token] = setup.secret
        return setup

    def confirm_totp(self, staff_id: str, setup: TotpSetup, code: str) -> None:
        """The code must be the one an app shows now for the secret the set-up made (``authenticator_code``);
        it is then the one code the fake's sign-in asks for."""
        secret = self.totp_setups.get(setup.access_token)
        if secret is None or not self.get(staff_id).enabled:
            raise SignInFailed
        if code != authenticator_code(secret, self.clock.now()):
            raise WrongTotpCode
        del self.totp_setups[setup.access_token]
        self.enable_totp(staff_id, code)

    def sign_in(self, email: str, password: str) -> SignInStep:
        member = next((m for m in self.members_by_id.values() if m.email == email), None)
        if member is None or not member.enabled or self.passwords[member.staff_id] != password:
            raise SignInFailed
        if member.status == "FORCE_CHANGE_PASSWORD":
            return self._challenge(ChallengeName.NEW_PASSWORD, member.staff_id)
        return self._second_factor(member.staff_id)

    def answer(self, challenge: Challenge, response: str) -> SignInStep:
        staff_id = self.sessions.pop(challenge.session, None)
        if staff_id is None or staff_id != challenge.username or not self.get(staff_id).enabled:
            raise SignInFailed
        if challenge.name is ChallengeName.NEW_PASSWORD:
            if not _meets_policy(response):
                self.sessions[challenge.session] = staff_id
                raise InvalidInput("The new password does not meet the password policy")
            self.passwords[staff_id] = response
            self.members_by_id[staff_id] = replace(self.get(staff_id), status="CONFIRMED")
            return self._second_factor(staff_id)
        if self.totp_codes.get(staff_id) != response:
            raise SignInFailed
        return self._tokens(staff_id)

    def verify(self, id_token: str, now: datetime) -> StaffIdentity:
        issued = self.id_tokens.get(id_token)
        if issued is None:
            raise InvalidToken("BadSignatureError")
        staff_id, expires_at = issued
        if now >= expires_at:
            raise InvalidToken("ExpiredTokenError")
        member = self.members_by_id[staff_id]
        return StaffIdentity(member.staff_id, member.email, member.clinic_id, member.role)

    def refresh(self, refresh_token: str) -> Tokens:
        staff_id = self.refresh_tokens.get(refresh_token)
        if staff_id is None or not self.get(staff_id).enabled:
            raise InvalidToken("refresh token revoked or expired")
        fresh = self._tokens(staff_id)
        del self.refresh_tokens[fresh.refresh_token]
        return replace(fresh, refresh_token=refresh_token)

    def sign_out(self, staff_id: str) -> None:
        self._revoke(self.get(staff_id).staff_id)

    def _revoke(self, staff_id: str) -> None:
        for token, owner in list(self.refresh_tokens.items()):
            if owner == staff_id:
                del self.refresh_tokens[token]

    def _challenge(self, name: ChallengeName, staff_id: str) -> Challenge:
        session = secrets.token_urlsafe(24)
        self.sessions[session] = staff_id
        return Challenge(name, staff_id, session)

    def _second_factor(self, staff_id: str) -> SignInStep:
        if staff_id in self.totp_codes:
            return self._challenge(ChallengeName.TOTP, staff_id)
        return self._tokens(staff_id)

    def _tokens(self, staff_id: str) -> Tokens:
        tokens = Tokens(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        self.id_tokens[tokens.id_token] = (staff_id, self.clock.now() + self.TOKEN_LIFETIME)
        self.refresh_tokens[tokens.refresh_token] = staff_id
        return tokens


def authenticator_code(secret: str, at: datetime) -> str:
    """The code an authenticator app shows at ``at`` for a base32 ``secret`` (RFC 6238: SHA-1, 6 digits, 30 s),
    padded as Cognito's (and moto's) secrets need."""
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(int(at.timestamp())).decode()  # noqa: S303 (RFC 6238)


def _meets_policy(password: str) -> bool:
    """The staff pool's password policy (chalicelib.adapters.resources.STAFF_POOL)."""
    return (
        len(password) >= 12
        and any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and any(c.isdigit() for c in password)
    )


def fake_deps(clock: FakeClock | None = None) -> Deps:
    """A full set of in-memory dependencies."""
    clock = clock or FakeClock()
    return Deps(
        clock=clock,
        clinics=InMemoryClinicRepository(),
        api_keys=InMemoryApiKeyRepository(),
        buckets=BUCKETS,
        objects=InMemoryObjectStore(),
        studies=InMemoryStudyIndex(),
        uploads=InMemoryUploadRepository(),
        thumbnails=FakeThumbnailer(),
        shares=InMemoryShareRepository(),
        jobs=FakeJobQueue(),
        mailer=FakeMailer(),
        sms=FakeSmsSender(),
        visits=InMemoryVisitRepository(),
        messages=InMemoryMessageRepository(),
        visit_policy=VISIT_POLICY,
        site=Site(public_base_url="https://share.example.test"),
        idempotency=InMemoryIdempotencyStore(),
        access_log=InMemoryAccessLog(),
        sending=InMemorySendingCounter(),
        message_index=InMemoryMessageIndex(),
        single_use=InMemorySingleUse(),
        keys=FakeSigningKeys(),
        staff=FakeStaffDirectory(clock),
    )


class InMemoryIdempotencyStore(BasePersistenceLayer):
    """Powertools' persistence layer in a dict, with DynamoDB's conditional-put semantics."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        existing = self.records.get(data_record.idempotency_key)
        now = datetime.now(UTC)
        if existing is not None:
            completed_alive = existing.expiry_timestamp is not None and existing.expiry_timestamp > now.timestamp()
            in_progress = (
                existing.status == "INPROGRESS"
                and (existing.in_progress_expiry_timestamp or 0) > now.timestamp() * 1000
            )
            if completed_alive or in_progress:
                raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


def mailer(deps: Deps) -> FakeMailer:
    """The fake mailer of ``deps``, to read what was sent."""
    assert isinstance(deps.mailer, FakeMailer)
    return deps.mailer


def sms(deps: Deps) -> FakeSmsSender:
    """The fake SMS sender of ``deps``, to read what was sent."""
    assert isinstance(deps.sms, FakeSmsSender)
    return deps.sms
