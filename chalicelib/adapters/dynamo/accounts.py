"""Clinics and API keys in DynamoDB."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.adapters.dynamo.base import BaseModel, TableMeta, deployed_name
from chalicelib.adapters.dynamo.errors import is_conditional_failure
from chalicelib.domain.accounts import DEFAULT_DAILY_MESSAGES, ApiKey, Clinic
from chalicelib.domain.contacts import DEFAULT_COUNTRY
from chalicelib.domain.errors import Conflict, NotFound, StaleWrite


class ClinicModel(BaseModel):
    """One row a clinic."""

    class Meta(TableMeta):
        table_name = deployed_name("clinics")

    clinic_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    country = UnicodeAttribute(null=True)  # rows made before clinics had a country read as the default
    link_code_hash = UnicodeAttribute(null=True)
    link_lifetime_days = NumberAttribute(default=90)
    language = UnicodeAttribute(default="sv")
    daily_message_limit = NumberAttribute(null=True)  # rows made before the quota read as the default
    version = NumberAttribute(null=True)  # rows made before clinics were versioned read as 0


class SendingCountModel(BaseModel):
    """How many e-mails and texts one clinic has sent on one day (UTC); the row goes two days later."""

    class Meta(TableMeta):
        table_name = deployed_name("sending-counts")

    clinic_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # YYYY-MM-DD
    sent = NumberAttribute(default=0)
    remove_at = TTLAttribute()


class ApiKeyModel(BaseModel):
    """One row an API key; the secret only as its hash."""

    class Meta(TableMeta):
        table_name = deployed_name("api-keys")

    key_id = UnicodeAttribute(hash_key=True)
    clinic_id = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


class DynamoClinicRepository:
    """ClinicRepository on DynamoDB."""

    def add(self, clinic: Clinic) -> None:
        row = _clinic_row(clinic)
        try:
            row.save(condition=ClinicModel.clinic_id.does_not_exist())
        except PutError as err:
            if is_conditional_failure(err):
                raise Conflict("A clinic with this id exists already") from err
            raise

    def get(self, clinic_id: str) -> Clinic:
        try:
            row = ClinicModel.get(clinic_id)
        except DoesNotExist as err:
            raise NotFound("No such clinic") from err
        return Clinic(
            clinic_id=row.clinic_id,
            name=row.name,
            created_at=row.created_at,
            country=row.country or DEFAULT_COUNTRY,
            link_code_hash=row.link_code_hash,
            link_lifetime_days=int(row.link_lifetime_days),
            language=row.language,
            daily_message_limit=int(row.daily_message_limit or DEFAULT_DAILY_MESSAGES),
            version=int(row.version or 0),
        )

    def save(self, clinic: Clinic) -> Clinic:
        stored = replace(clinic, version=clinic.version + 1)
        read_at = ClinicModel.version == clinic.version
        if clinic.version == 0:
            read_at |= ClinicModel.version.does_not_exist()
        try:
            _clinic_row(stored).save(condition=ClinicModel.clinic_id.exists() & read_at)
        except PutError as err:
            if not is_conditional_failure(err):
                raise
            self.get(clinic.clinic_id)  # NotFound when it is gone
            raise StaleWrite("The clinic was changed by another request") from err
        return stored


class DynamoSendingCounter:
    """SendingCounter on DynamoDB: one conditional ADD, so clinics' parallel requests never overshoot."""

    def reserve(self, clinic_id: str, day: date, messages: int, limit: int) -> bool:
        if messages > limit:
            return False
        room = (SendingCountModel.sent.does_not_exist()) | (SendingCountModel.sent <= limit - messages)
        try:
            SendingCountModel(clinic_id, day.isoformat()).update(
                actions=[
                    SendingCountModel.sent.add(messages),
                    SendingCountModel.remove_at.set(datetime.combine(day + timedelta(days=2), time(), tzinfo=UTC)),
                ],
                condition=room,
            )
        except UpdateError as err:
            if is_conditional_failure(err):
                return False
            raise
        return True

    def sent(self, clinic_id: str, day: date) -> int:
        try:
            return int(SendingCountModel.get(clinic_id, day.isoformat(), consistent_read=True).sent)
        except DoesNotExist:
            return 0


class DynamoApiKeyRepository:
    """ApiKeyRepository on DynamoDB."""

    def add(self, key: ApiKey) -> None:
        try:
            _to_row(key).save(condition=ApiKeyModel.key_id.does_not_exist())
        except PutError as err:
            if is_conditional_failure(err):
                raise Conflict("An API key with this id exists already") from err
            raise

    def get(self, key_id: str) -> ApiKey:
        try:
            row = ApiKeyModel.get(key_id, consistent_read=True)
        except DoesNotExist as err:
            raise NotFound("No such API key") from err
        return ApiKey(
            key_id=row.key_id,
            clinic_id=row.clinic_id,
            secret_hash=row.secret_hash,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )

    def save(self, key: ApiKey) -> None:
        try:
            _to_row(key).save(condition=ApiKeyModel.key_id.exists())
        except PutError as err:
            if is_conditional_failure(err):
                raise NotFound("No such API key") from err
            raise


def _clinic_row(clinic: Clinic) -> ClinicModel:
    return ClinicModel(
        clinic.clinic_id,
        name=clinic.name,
        created_at=clinic.created_at,
        country=clinic.country,
        link_code_hash=clinic.link_code_hash,
        link_lifetime_days=clinic.link_lifetime_days,
        language=clinic.language,
        daily_message_limit=clinic.daily_message_limit,
        version=clinic.version,
    )


def _to_row(key: ApiKey) -> ApiKeyModel:
    return ApiKeyModel(
        key.key_id,
        clinic_id=key.clinic_id,
        secret_hash=key.secret_hash,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
