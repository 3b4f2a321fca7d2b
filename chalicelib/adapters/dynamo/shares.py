"""Shares in DynamoDB: found by id, by the hash of their link token, by study, and by clinic (newest first).

Rows carry a TTL attribute some time after the link expires, so the history can still say "expired";
every read checks expiry itself (TTL deletion is late), and the TTL removal's stream record is what
deletes the share's files.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.adapters.dynamo.base import BaseModel, TableMeta, deployed_name
from chalicelib.adapters.dynamo.deliveries import deliveries_from, deliveries_json, iso, time_of
from chalicelib.adapters.dynamo.errors import is_conditional_failure
from chalicelib.domain.errors import Conflict, NotFound, StaleWrite
from chalicelib.domain.shares import (
    HISTORY_AFTER_EXPIRY,
    LOCK_DURATION,
    MAX_FAILED_ATTEMPTS,
    AccessEvent,
    AccessKind,
    Attempts,
    LinkLocked,
    Share,
    ShareCursor,
    SharedFile,
    ShareStatus,
)
from chalicelib.services.ports import SharePage

#: What ``save`` leaves as stored: the key, and the attempt gate (written only by take/clear_attempts).
_NOT_SAVED = frozenset({"share_id", "attempts", "locked_until"})


class _ByToken(GlobalSecondaryIndex["ShareModel"]):
    class Meta:
        index_name = "by-token"
        projection = AllProjection()

    token_hash = UnicodeAttribute(hash_key=True)


class _ByStudy(GlobalSecondaryIndex["ShareModel"]):
    class Meta:
        index_name = "by-study"
        projection = AllProjection()

    study_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class _ByClinic(GlobalSecondaryIndex["ShareModel"]):
    """The clinic's shares, newest first (the console's Shares list and ``GET /shares``): one partition a clinic."""

    class Meta:
        index_name = "by-clinic"
        projection = AllProjection()

    clinic_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ShareModel(BaseModel):
    """One row a share."""

    class Meta(TableMeta):
        table_name = deployed_name("shares")
        stream_view_type = "OLD_IMAGE"

    share_id = UnicodeAttribute(hash_key=True)
    clinic_id = UnicodeAttribute()
    study_key = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    remove_at = TTLAttribute()
    deleted_at = UTCDateTimeAttribute(null=True)
    status = UnicodeAttribute()
    needs_password = BooleanAttribute(default=False)
    version = NumberAttribute(default=0)  # Share.version: every save is conditional on it
    # Share.attempts, top level so that conditions can read them; only take_attempt/clear_attempts write them
    attempts = NumberAttribute(default=0)
    locked_until = UTCDateTimeAttribute(null=True)
    body = UnicodeAttribute()  # the rest of the share as JSON: read back whole, never queried by field

    by_token = _ByToken()
    by_study = _ByStudy()
    by_clinic = _ByClinic()


class DynamoShareRepository:
    """ShareRepository on DynamoDB."""

    def add(self, share: Share) -> None:
        try:
            _row(share).save(condition=ShareModel.share_id.does_not_exist())
        except PutError as err:
            if is_conditional_failure(err):
                raise Conflict("A share with this id exists already") from err
            raise

    def get(self, share_id: str) -> Share:
        try:
            return _share(ShareModel.get(share_id, consistent_read=True))
        except DoesNotExist as err:
            raise NotFound("No such share") from err

    def by_token_hash(self, token_hash: str) -> Share:
        rows = list(ShareModel.by_token.query(token_hash, limit=1))
        if not rows:
            raise NotFound("No such link")
        return _share(rows[0])

    def save(self, share: Share) -> Share:
        stored = replace(share, version=share.version + 1)
        read_at = ShareModel.version == share.version
        if share.version == 0:
            read_at |= ShareModel.version.does_not_exist()
        row = _row(stored)
        # An update of every attribute but the key and the attempt gate: attempts are counted beside
        # saves (atomically, without a version), and a save from an older read must not undo them.
        actions: list[Action] = [
            attribute.remove() if getattr(row, name) is None else attribute.set(getattr(row, name))
            for name, attribute in ShareModel.get_attributes().items()
            if name not in _NOT_SAVED
        ]
        try:
            ShareModel(share.share_id).update(actions=actions, condition=ShareModel.share_id.exists() & read_at)
        except UpdateError as err:
            if not is_conditional_failure(err):
                raise
            self.get(share.share_id)  # NotFound when it is gone
            raise StaleWrite("The share has been changed since it was read") from err
        return stored

    def take_attempt(self, share_id: str, now: datetime) -> Attempts:
        # Attempts.taken as conditional updates, so that no two requests take the same slot: slots one
        # to four while no lock is set; the last slot sets the lock in the same write; a lock that has
        # ended starts a new window. When none applies, the row says why (a lock in force, or a race
        # lost to another request's write, which is tried again).
        exists = ShareModel.share_id.exists()
        no_lock = ShareModel.locked_until.does_not_exist()
        lock_until = now + LOCK_DURATION
        tries: list[tuple[list[Action], Condition]] = [
            ([ShareModel.attempts.add(1)], exists & no_lock & (ShareModel.attempts < MAX_FAILED_ATTEMPTS - 1)),
            (
                [ShareModel.attempts.add(1), ShareModel.locked_until.set(lock_until)],
                exists & no_lock & (ShareModel.attempts == MAX_FAILED_ATTEMPTS - 1),
            ),
            ([ShareModel.attempts.set(1), ShareModel.locked_until.remove()], exists & (ShareModel.locked_until <= now)),
        ]
        for _ in range(MAX_FAILED_ATTEMPTS + 1):
            for actions, condition in tries:
                row = ShareModel(share_id)
                try:
                    row.update(actions=actions, condition=condition)
                except UpdateError as err:
                    if not is_conditional_failure(err):
                        raise
                    continue
                return Attempts(int(row.attempts), row.locked_until)
            current = self.get(share_id).attempts  # NotFound when it is gone
            current.ensure_unlocked(now)
        raise LinkLocked(now + timedelta(seconds=1), now)  # every round lost to other requests: try again soon

    def clear_attempts(self, share_id: str, now: datetime) -> None:
        # a lock in force stays until it ends (or the share is gone: nothing to clear)
        _new_window(share_id, ShareModel.locked_until.does_not_exist() | (ShareModel.locked_until <= now))

    def lift_lock(self, share_id: str, now: datetime) -> bool:
        return _new_window(share_id, ShareModel.locked_until > now)

    def for_study(self, clinic_id: str, study_instance_uid: str) -> list[Share]:
        rows = ShareModel.by_study.query(f"{clinic_id}#{study_instance_uid}", scan_index_forward=False)
        return [_share(r) for r in rows]

    def for_clinic(self, clinic_id: str, *, limit: int, after: ShareCursor | None = None) -> SharePage:
        # pynamodb reads on past DynamoDB's 1 MB pages until ``limit`` rows or the end of the partition, so a
        # short page is the end. The start key is the index's key and the table's, as DynamoDB's own cursor is.
        start = None
        if after is not None:
            start = {
                "clinic_id": {"S": clinic_id},
                "created_at": {"S": ShareModel.created_at.serialize(after.created_at)},
                "share_id": {"S": after.share_id},
            }
        rows = ShareModel.by_clinic.query(clinic_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        shares = tuple(_share(r) for r in rows)
        return SharePage(shares, ShareCursor.after(shares[-1]) if len(shares) == limit else None)


def _new_window(share_id: str, condition: Condition) -> bool:
    """Clear the attempt gate in one conditional write, if ``condition`` holds; whether it did."""
    try:
        ShareModel(share_id).update(
            actions=[ShareModel.attempts.set(0), ShareModel.locked_until.remove()],
            condition=ShareModel.share_id.exists() & condition,
        )
    except UpdateError as err:
        if not is_conditional_failure(err):
            raise
        return False
    return True


def _row(share: Share) -> ShareModel:
    return ShareModel(
        share.share_id,
        clinic_id=share.clinic_id,
        study_key=f"{share.clinic_id}#{share.study_instance_uid}",
        token_hash=share.token_hash,
        created_at=share.created_at,
        expires_at=share.expires_at,
        remove_at=share.expires_at + HISTORY_AFTER_EXPIRY,
        deleted_at=share.deleted_at,
        status=share.status.value,
        needs_password=share.needs_password,
        version=share.version,
        attempts=share.attempts.count,
        locked_until=share.attempts.locked_until,
        body=json.dumps(_body(share)),
    )


def _body(share: Share) -> dict[str, Any]:
    return {
        "study_instance_uid": share.study_instance_uid,
        "sop_instance_uids": list(share.sop_instance_uids) if share.sop_instance_uids is not None else None,
        "deliveries": deliveries_json(share.deliveries),
        "language": share.language,
        "token_nonce": share.token_nonce,
        "last_sent_at": iso(share.last_sent_at),
        "failure": share.failure,
        "link_code_hash": share.link_code_hash,
        "password_hash": share.password_hash,
        "study_date": share.study_date,
        "study_description": share.study_description,
        "files": [asdict(f) for f in share.files],
        "code_hash": share.code_hash,
        "code_expires_at": iso(share.code_expires_at),
        "codes_sent_at": [iso(t) for t in share.codes_sent_at],
    }


def _share(row: ShareModel) -> Share:
    body = json.loads(row.body)
    return Share(
        share_id=row.share_id,
        clinic_id=row.clinic_id,
        study_instance_uid=body["study_instance_uid"],
        sop_instance_uids=tuple(body["sop_instance_uids"]) if body["sop_instance_uids"] is not None else None,
        deliveries=deliveries_from(body["deliveries"]),
        language=body["language"],
        token_hash=row.token_hash,
        token_nonce=body["token_nonce"],
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_sent_at=time_of(body["last_sent_at"]),
        deleted_at=row.deleted_at,
        status=ShareStatus(row.status),
        failure=body["failure"],
        needs_password=bool(row.needs_password),
        study_date=body.get("study_date", ""),  # absent from shares made before it was kept
        study_description=body.get("study_description", ""),
        link_code_hash=body["link_code_hash"],
        password_hash=body["password_hash"],
        files=tuple(SharedFile(**f) for f in body["files"]),
        attempts=Attempts(int(row.attempts or 0), row.locked_until),
        code_hash=body["code_hash"],
        code_expires_at=time_of(body["code_expires_at"]),
        codes_sent_at=tuple(t for t in (time_of(v) for v in body["codes_sent_at"]) if t is not None),
        version=int(row.version or 0),
    )


class ShareEventModel(BaseModel):
    """One row a use of a link (open, download, unlock attempt, code sent), kept as long as the share's row."""

    class Meta(TableMeta):
        table_name = deployed_name("share-events")

    share_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)  # "<time>#<random>": in time order, never colliding
    at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    client = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)
    remove_at = TTLAttribute()


class DynamoAccessLog:
    """AccessLog on DynamoDB."""

    def record(self, event: AccessEvent, keep_until: datetime) -> None:
        ShareEventModel(
            event.share_id,
            f"{event.at.isoformat()}#{secrets.token_hex(4)}",
            at=event.at,
            kind=event.kind.value,
            client=event.client,
            detail=event.detail,
            remove_at=keep_until + HISTORY_AFTER_EXPIRY,
        ).save()

    def for_share(self, share_id: str) -> list[AccessEvent]:
        return [
            AccessEvent(r.share_id, r.at, AccessKind(r.kind), r.client, r.detail)
            for r in ShareEventModel.query(share_id, consistent_read=True)
        ]
