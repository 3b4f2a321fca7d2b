"""The event side of the local stack: what Lambda's event source mappings and DynamoDB TTL do in AWS.

* ``SqsPump`` feeds each queue's messages to the Chalice handler registered for it, in Lambda's event
  format, deleting what succeeded and leaving the rest for a retry (and, after the queue's
  maxReceiveCount, its dead-letter queue), as Lambda does with ReportBatchItemFailures.
* ``reap_expired`` deletes rows whose TTL attribute has passed: moto never does, AWS does it late.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from chalice.app import Chalice, SQSEventConfig
from chalice.local import LambdaContext
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from chalicelib.adapters import resources
from chalicelib.settings import Settings
from local.stack import client

RETRY_DELAY_S = 2


class SqsPump:
    """Polls every queue that has an ``on_sqs_message`` handler and invokes it."""

    def __init__(self, app: Chalice, cfg: Settings, retry_delay_s: int = RETRY_DELAY_S) -> None:
        self._app = app
        self._retry_delay_s = retry_delay_s
        self._cfg = cfg
        self._sqs = client("sqs", cfg)
        self._sources = [s for s in app.event_sources if isinstance(s, SQSEventConfig)]

    def run_once(self, wait_s: int = 0) -> int:
        """Deliver at most one batch per queue; returns how many messages were handled."""
        handled = 0
        for source in self._sources:
            handled += self._deliver(source, wait_s)
        return handled

    def _deliver(self, source: SQSEventConfig, wait_s: int) -> int:
        url = self._sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        messages = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(source.batch_size, 10),
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [_record(m, arn, self._cfg.region) for m in messages]}
        handler = self._app.handler_map[source.name]
        try:
            result = handler(event, LambdaContext(source.name, 512))
        except Exception:
            failed = {m["MessageId"] for m in messages}
        else:
            failures = (result or {}).get("batchItemFailures", []) if isinstance(result, dict) else []
            failed = {f["itemIdentifier"] for f in failures}
        for message in messages:
            if message["MessageId"] in failed:
                # Lambda would wait for the visibility timeout; locally a short delay is kinder.
                self._sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self._retry_delay_s
                )
            else:
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def _record(message: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType")}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def reap_expired(now: datetime | None = None, tables: Iterable[type[Model]] = resources.TABLES) -> int:
    """Delete every row whose TTL attribute is in the past; returns how many were deleted.

    Deleting through the table (not around it) makes DynamoDB Streams carry the removal, as TTL does.
    """
    now = now or datetime.now(UTC)
    deleted = 0
    for model in tables:
        ttl = next((a for a in model.get_attributes().values() if isinstance(a, TTLAttribute)), None)
        if ttl is None:
            continue
        for row in model.scan(filter_condition=ttl <= now):
            row.delete()
            deleted += 1
    return deleted


class Background(threading.Thread):
    """Runs the pump and the reaper until stopped."""

    def __init__(self, app: Chalice, cfg: Settings, reap_every_s: float = 10.0) -> None:
        super().__init__(name="local-events", daemon=True)
        self._pump = SqsPump(app, cfg)
        self._stopping = threading.Event()
        self._reap_every_s = reap_every_s

    def run(self) -> None:
        next_reap = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_reap:
                    reap_expired()
                    next_reap = time.monotonic() + self._reap_every_s
                if not self._pump.run_once(wait_s=1):
                    self._stopping.wait(0.2)
            except Exception as err:
                print(f"local events: {type(err).__name__}: {err}", flush=True)
                self._stopping.wait(1)

    def stop(self) -> None:
        """Ask the loop to end; it finishes its current batch first."""
        self._stopping.set()
