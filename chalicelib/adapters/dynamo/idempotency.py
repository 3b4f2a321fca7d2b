"""The table behind Powertools idempotency (``Idempotency-Key`` on share requests).

Powertools reads and writes the items itself; the model exists so that the local stack creates the
table and the infrastructure test holds the template to it, like every other table.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from chalicelib.adapters.dynamo.base import BaseModel, TableMeta, deployed_name


class IdempotencyModel(BaseModel):
    """One row a request key; Powertools' attribute names."""

    class Meta(TableMeta):
        table_name = deployed_name("idempotency")

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute()


def persistence_store(client: Any) -> Any:
    """Powertools' DynamoDB persistence layer on our table and client."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=IdempotencyModel.Meta.table_name, boto3_client=client)
