"""Visits and their chat messages in DynamoDB.

A visit is one row, found by id or (through the keys-only ``by-link`` index) by its link token's hash;
its ``message_seq`` counter hands out message numbers atomically, and only while the visit is open.
Messages live in their visit's partition, sorted by that number, so a page of the chat is one Query;
the local index ``by-attachment`` finds a file's message with a consistent read. Every row carries the
visit's expiry as its TTL attribute; the messages table streams each removal's old image so that the
cleanup worker deletes the files of expired attachments.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex

from chalicelib.adapters.dynamo.base import BaseModel, TableMeta, deployed_name
from chalicelib.adapters.dynamo.deliveries import deliveries_from, deliveries_json
from chalicelib.adapters.dynamo.errors import is_conditional_failure
from chalicelib.domain.deliveries import Delivery
from chalicelib.domain.errors import Conflict, NotFound, StaleWrite
from chalicelib.domain.visits import (
    Attachment,
    AttachmentStatus,
    Message,
    RejectReason,
    Role,
    Visit,
    VisitStatus,
)
from chalicelib.media.attachment_types import Family


class _ByLink(GlobalSecondaryIndex["VisitModel"]):
    class Meta:
        index_name = "by-link"
        projection = KeysOnlyProjection()

    link_hash = UnicodeAttribute(hash_key=True)


class _OpenByClinic(GlobalSecondaryIndex["VisitModel"]):
    """Sparse: only open visits carry ``open_clinic_id``, so the console's list of open visits reads no closed one."""

    class Meta:
        index_name = "open-by-clinic"
        projection = AllProjection()

    open_clinic_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class VisitModel(BaseModel):
    """One row a visit."""

    class Meta(TableMeta):
        table_name = deployed_name("visits")

    visit_id = UnicodeAttribute(hash_key=True)
    clinic_id = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    link_hash = UnicodeAttribute()
    link_nonce = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    deliveries = UnicodeAttribute()  # JSON: read back whole, never queried by field
    version = NumberAttribute(null=True)  # Visit.version: every save is conditional on it
    status = UnicodeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    closed_by = UnicodeAttribute(null=True)
    message_seq = NumberAttribute(default=0)
    open_clinic_id = UnicodeAttribute(null=True)  # the clinic's id while the visit is open (open-by-clinic)
    clinician_read_seq = NumberAttribute(null=True)

    by_link = _ByLink()
    open_by_clinic = _OpenByClinic()


class _ByAttachment(LocalSecondaryIndex["MessageModel"]):
    class Meta:
        index_name = "by-attachment"
        projection = AllProjection()

    visit_id = UnicodeAttribute(hash_key=True)
    attachment_id = UnicodeAttribute(range_key=True)


class MessageModel(BaseModel):
    """One row a chat message; file messages carry their attachment's fields."""

    class Meta(TableMeta):
        table_name = deployed_name("visit-messages")
        stream_view_type = "OLD_IMAGE"

    visit_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    clinic_id = UnicodeAttribute()
    sender = UnicodeAttribute()
    clinician = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    text = UnicodeAttribute(null=True)
    attachment_id = UnicodeAttribute(null=True)
    filename = UnicodeAttribute(null=True)
    declared_type = UnicodeAttribute(null=True)
    declared_size = NumberAttribute(null=True)
    status = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    mime = UnicodeAttribute(null=True)
    family = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    has_preview = BooleanAttribute(null=True)
    saved_at = UTCDateTimeAttribute(null=True)
    saved_by = UnicodeAttribute(null=True)

    by_attachment = _ByAttachment()


class DynamoVisitRepository:
    """VisitRepository on DynamoDB."""

    def add(self, visit: Visit) -> None:
        try:
            _visit_row(visit).save(condition=VisitModel.visit_id.does_not_exist())
        except PutError as err:
            if is_conditional_failure(err):
                raise Conflict("A visit with this id exists already") from err
            raise

    def get(self, visit_id: str) -> Visit:
        try:
            row = VisitModel.get(visit_id, consistent_read=True)
        except DoesNotExist as err:
            raise NotFound("No such visit") from err
        return _visit(row)

    def find_by_link(self, link_hash: str) -> Visit:
        for key in VisitModel.by_link.query(link_hash, limit=1):
            return self.get(key.visit_id)
        raise NotFound("No such visit")

    def save(self, visit: Visit) -> Visit:
        stored = replace(visit, version=visit.version + 1)
        read_at = VisitModel.version == visit.version
        if visit.version == 0:
            read_at |= VisitModel.version.does_not_exist()
        row = VisitModel(visit.visit_id)
        try:
            # The fields a visit's life changes; its message counter (next_seq) is not among them.
            row.update(
                actions=[
                    VisitModel.status.set(visit.status.value),
                    VisitModel.expires_at.set(visit.expires_at),
                    VisitModel.deliveries.set(_deliveries_json(visit.deliveries)),
                    VisitModel.closed_at.set(visit.closed_at) if visit.closed_at else VisitModel.closed_at.remove(),
                    VisitModel.closed_by.set(visit.closed_by) if visit.closed_by else VisitModel.closed_by.remove(),
                    VisitModel.version.set(stored.version),
                    VisitModel.open_clinic_id.set(visit.clinic_id)
                    if visit.status is VisitStatus.OPEN
                    else VisitModel.open_clinic_id.remove(),
                ],
                condition=VisitModel.visit_id.exists() & read_at,
            )
        except UpdateError as err:
            if not is_conditional_failure(err):
                raise
            self.get(visit.visit_id)  # NotFound when it is gone
            raise StaleWrite("The visit has been changed since it was read") from err
        return stored

    def next_seq(self, visit_id: str) -> int:
        row = VisitModel(visit_id)
        try:
            row.update(
                actions=[VisitModel.message_seq.add(1)],
                condition=VisitModel.visit_id.exists() & (VisitModel.status == VisitStatus.OPEN.value),
            )
        except UpdateError as err:
            if is_conditional_failure(err):
                raise Conflict("The visit is closed; nothing more can be sent") from err
            raise
        return int(row.message_seq)

    def open_for_clinic(self, clinic_id: str, limit: int) -> list[Visit]:
        rows = VisitModel.open_by_clinic.query(clinic_id, scan_index_forward=False, limit=limit)
        return [_visit(r) for r in rows]

    def mark_read(self, visit_id: str, seq: int) -> None:
        row = VisitModel(visit_id)
        higher = VisitModel.clinician_read_seq.does_not_exist() | (VisitModel.clinician_read_seq < seq)
        try:
            row.update(
                actions=[VisitModel.clinician_read_seq.set(seq)], condition=VisitModel.visit_id.exists() & higher
            )
        except UpdateError as err:
            if not is_conditional_failure(err):
                raise  # else: read that far already (or the visit is gone): nothing to record


class DynamoMessageRepository:
    """MessageRepository on DynamoDB."""

    def add(self, message: Message) -> None:
        try:
            _message_row(message).save(condition=MessageModel.seq.does_not_exist())
        except PutError as err:
            if is_conditional_failure(err):
                raise Conflict("A message with this number exists already") from err
            raise

    def after(self, visit_id: str, after: int, limit: int) -> list[Message]:
        rows = MessageModel.query(visit_id, MessageModel.seq > after, consistent_read=True, limit=limit)
        return [_message(r) for r in rows]

    def attachment(self, visit_id: str, attachment_id: str) -> Message:
        for row in MessageModel.by_attachment.query(
            visit_id, MessageModel.attachment_id == attachment_id, consistent_read=True, limit=1
        ):
            return _message(row)
        raise NotFound("No such file")

    def attachments(self, visit_id: str) -> list[Message]:
        rows = MessageModel.by_attachment.query(visit_id, consistent_read=True)
        return sorted((_message(r) for r in rows), key=lambda m: m.seq)

    def save_attachment(self, read: Message, attachment: Attachment) -> None:
        a, before = attachment, read.attachment
        if before is None or before.attachment_id != a.attachment_id:
            raise NotFound("No such file")
        row = MessageModel(read.visit_id, read.seq)
        actions: list[Any] = [
            MessageModel.status.set(a.status.value),
            _set_or_remove(MessageModel.reason, a.reason.value if a.reason else None),
            _set_or_remove(MessageModel.mime, a.mime),
            _set_or_remove(MessageModel.family, a.family),
            _set_or_remove(MessageModel.size, a.size),
            MessageModel.has_preview.set(a.has_preview),
            _set_or_remove(MessageModel.saved_at, a.saved_at),
            _set_or_remove(MessageModel.saved_by, a.saved_by),
        ]
        as_read = (
            (MessageModel.attachment_id == a.attachment_id)
            & (MessageModel.status == before.status.value)
            & (MessageModel.expires_at == read.expires_at)
            & (
                MessageModel.saved_at.does_not_exist()
                if before.saved_at is None
                else MessageModel.saved_at == before.saved_at
            )
        )
        try:
            row.update(actions=actions, condition=as_read)
        except UpdateError as err:
            if not is_conditional_failure(err):
                raise
            if self.attachment(read.visit_id, a.attachment_id).seq != read.seq:  # NotFound when it is gone
                raise NotFound("No such file") from err
            raise StaleWrite("The file's message has changed since it was read") from err

    def expire(self, visit_id: str, expires_at: datetime) -> None:
        for row in MessageModel.query(visit_id, consistent_read=True, attributes_to_get=["visit_id", "seq"]):
            row.update(actions=[MessageModel.expires_at.set(expires_at)])

    def count_from_patient(self, visit_id: str, after: int) -> int:
        return MessageModel.count(
            visit_id,
            MessageModel.seq > after,
            filter_condition=MessageModel.sender == Role.PATIENT.value,
            consistent_read=True,
        )


def _set_or_remove(attribute: Any, value: object) -> Any:
    return attribute.set(value) if value is not None else attribute.remove()


def _deliveries_json(deliveries: tuple[Delivery, ...]) -> str:
    return json.dumps(deliveries_json(deliveries))


def _visit_row(visit: Visit) -> VisitModel:
    return VisitModel(
        visit.visit_id,
        clinic_id=visit.clinic_id,
        created_by=visit.created_by,
        created_at=visit.created_at,
        expires_at=visit.expires_at,
        link_hash=visit.link_hash,
        deliveries=_deliveries_json(visit.deliveries),
        status=visit.status.value,
        closed_at=visit.closed_at,
        closed_by=visit.closed_by,
        message_seq=0,
        link_nonce=visit.link_nonce or None,
        language=visit.language,
        version=visit.version,
        open_clinic_id=visit.clinic_id if visit.status is VisitStatus.OPEN else None,
        clinician_read_seq=visit.clinician_read_seq,
    )


def _visit(row: VisitModel) -> Visit:
    deliveries = deliveries_from(json.loads(row.deliveries))
    return Visit(
        visit_id=row.visit_id,
        clinic_id=row.clinic_id,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        link_hash=row.link_hash,
        deliveries=deliveries,
        status=VisitStatus(row.status),
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        link_nonce=row.link_nonce or "",
        language=row.language or "sv",
        version=int(row.version or 0),
        clinician_read_seq=int(row.clinician_read_seq or 0),
    )


def _message_row(message: Message) -> MessageModel:
    a = message.attachment
    return MessageModel(
        message.visit_id,
        message.seq,
        clinic_id=message.clinic_id,
        sender=message.sender.value,
        clinician=message.clinician,
        sent_at=message.sent_at,
        expires_at=message.expires_at,
        text=message.text,
        attachment_id=a.attachment_id if a else None,
        filename=a.filename if a else None,
        declared_type=a.declared_type if a else None,
        declared_size=a.declared_size if a else None,
        status=a.status.value if a else None,
        reason=a.reason.value if a and a.reason else None,
        mime=a.mime if a else None,
        family=a.family if a else None,
        size=a.size if a else None,
        has_preview=a.has_preview if a else None,
        saved_at=a.saved_at if a else None,
        saved_by=a.saved_by if a else None,
    )


def _message(row: MessageModel) -> Message:
    attachment = None
    if row.attachment_id is not None:
        family: Family | None = row.family  # type: ignore[assignment]  # written from a Family only
        attachment = Attachment(
            attachment_id=row.attachment_id,
            filename=row.filename or "",
            declared_type=row.declared_type or "",
            declared_size=int(row.declared_size or 0),
            status=AttachmentStatus(row.status),
            reason=RejectReason(row.reason) if row.reason else None,
            mime=row.mime,
            family=family,
            size=int(row.size) if row.size is not None else None,
            has_preview=bool(row.has_preview),
            saved_at=row.saved_at,
            saved_by=row.saved_by,
        )
    return Message(
        visit_id=row.visit_id,
        clinic_id=row.clinic_id,
        seq=int(row.seq),
        sender=Role(row.sender),
        sent_at=row.sent_at,
        expires_at=row.expires_at,
        clinician=row.clinician,
        text=row.text,
        attachment=attachment,
    )
