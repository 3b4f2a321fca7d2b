"""What may be used once, in DynamoDB: one row a use, written only if there is none (``attribute_not_exists``).

Generic on purpose: the id names what was used (``clinician-ticket:<id>``), so anything else that must
work once can record its uses here too. Rows expire (TTL) once the thing could no longer be used anyway;
until DynamoDB deletes one, its id still counts as used.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.adapters.dynamo.base import BaseModel, TableMeta, deployed_name
from chalicelib.adapters.dynamo.errors import is_conditional_failure
from chalicelib.domain.errors import Conflict


class SingleUseModel(BaseModel):
    """One row a use."""

    class Meta(TableMeta):
        table_name = deployed_name("single-use")

    use_id = UnicodeAttribute(hash_key=True)
    remove_at = TTLAttribute()


class DynamoSingleUse:
    """SingleUse on DynamoDB."""

    def use(self, use_id: str, keep_until: datetime) -> None:
        try:
            SingleUseModel(use_id, remove_at=keep_until).save(condition=SingleUseModel.use_id.does_not_exist())
        except PutError as err:
            if is_conditional_failure(err):
                raise Conflict("It has been used already") from err
            raise

    def used(self, use_id: str) -> bool:
        try:
            SingleUseModel.get(use_id, consistent_read=True)
        except DoesNotExist:
            return False
        return True
