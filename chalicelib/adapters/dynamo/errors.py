"""Reading pynamodb errors by their AWS error code, never by message text."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException


def is_conditional_failure(err: PynamoDBException) -> bool:
    """True when a write failed because its condition did not hold."""
    return err.cause_response_code == "ConditionalCheckFailedException"
