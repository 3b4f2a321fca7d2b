"""The event side of the local stack: what Lambda's event source mappings and DynamoDB TTL do in AWS.

* ``SqsPump`` feeds each queue's messages to the Chalice handler registered for it, in Lambda's event
  format, deleting what succeeded and leaving the rest for a retry (and, after the queue's
  maxReceiveCount, its dead-letter queue), as Lambda does with ReportBatchItemFailures.
* ``StreamPump`` does the same for ``on_dynamodb_record`` handlers and their tables' streams.
* ``reap_expired`` deletes rows whose TTL attribute has passed: moto never does, AWS does it late.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from chalice.app import Chalice, DynamoDBEventConfig, SQSEventConfig
from chalice.local import LambdaContext
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from chalicelib.adapters import resources
from chalicelib.adapters.aws import client
from chalicelib.services.ports import Clock
from chalicelib.settings import Settings

RETRY_DELAY_S = 2


class SqsPump:
    """Polls every queue that has an ``on_sqs_message`` handler and invokes it."""

    def __init__(self, app: Chalice, cfg: Settings, retry_delay_s: int = RETRY_DELAY_S) -> None:
        self._app = app
        self._retry_delay_s = retry_delay_s
        self._cfg = cfg
        self._sqs = client("sqs")
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


class StreamPump:
    """Feeds each table stream that has an ``on_dynamodb_record`` handler to it, as Lambda's mapping does.

    The handler's decorator names the table (``Settings.stream_arn``); the pump reads that table's
    stream from the start (moto keeps it in memory), in Lambda's record format. A batch whose handler
    raises, or reports failed records, is read again from the first failure, at most ``max_attempts``
    times (then that record is skipped, as Lambda does after MaximumRetryAttempts).
    """

    def __init__(self, app: Chalice, cfg: Settings, max_attempts: int = 3) -> None:
        self._app = app
        self._region = cfg.region
        self._max_attempts = max_attempts
        self._dynamodb = client("dynamodb")
        # Stream ARNs name an account: botocore would route them to an account endpoint moto does not serve.
        self._streams = boto3.client(
            "dynamodbstreams",
            region_name=cfg.region,
            endpoint_url=cfg.endpoint_url,
            config=Config(account_id_endpoint_mode="disabled"),
        )
        self._sources = [s for s in app.event_sources if isinstance(s, DynamoDBEventConfig)]
        self._iterators: dict[tuple[str, str], str] = {}  # (handler, shard) → next shard iterator
        self._failures: dict[tuple[str, str], tuple[str, int]] = {}  # → (sequence number, attempts)
        self._arns: dict[str, str] = {}

    def run_once(self) -> int:
        """Deliver at most one batch per handler and shard; returns how many records were handled."""
        return sum(self._deliver(source) for source in self._sources)

    def _stream_arn(self, source: DynamoDBEventConfig) -> str:
        if source.name not in self._arns:
            table = source.stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
            self._arns[source.name] = self._dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        return self._arns[source.name]

    def _deliver(self, source: DynamoDBEventConfig) -> int:
        arn = self._stream_arn(source)
        handled = 0
        for shard in self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            key = (source.name, shard["ShardId"])
            if key not in self._iterators:
                self._iterators[key] = self._streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=source.starting_position
                )["ShardIterator"]
            response = self._streams.get_records(ShardIterator=self._iterators[key], Limit=source.batch_size)
            records = response["Records"]
            if not records:
                self._iterators[key] = response["NextShardIterator"]
                continue
            handled += len(records)
            first_failure = self._invoke(source, arn, records)
            if first_failure is None:
                self._failures.pop(key, None)
                self._iterators[key] = response["NextShardIterator"]
                continue
            sequence, attempts = self._failures.get(key, (first_failure, 0))
            attempts = attempts + 1 if sequence == first_failure else 1
            retry = attempts < self._max_attempts
            self._failures[key] = (first_failure, attempts) if retry else ("", 0)
            self._iterators[key] = self._streams.get_shard_iterator(
                StreamArn=arn,
                ShardId=shard["ShardId"],
                ShardIteratorType="AT_SEQUENCE_NUMBER" if retry else "AFTER_SEQUENCE_NUMBER",
                SequenceNumber=first_failure,
            )["ShardIterator"]
        return handled

    def _invoke(self, source: DynamoDBEventConfig, arn: str, records: list[dict[str, Any]]) -> str | None:
        """Run the handler on one batch; the sequence number of the first failed record, or None."""
        event = {"Records": [_stream_record(r, arn, self._region) for r in records]}
        try:
            result = self._app.handler_map[source.name](event, LambdaContext(source.name, 512))
        except Exception:
            return str(records[0]["dynamodb"]["SequenceNumber"])
        failures = (result or {}).get("batchItemFailures", []) if isinstance(result, dict) else []
        failed = {f["itemIdentifier"] for f in failures}
        sequences = [str(r["dynamodb"]["SequenceNumber"]) for r in records]
        return next((sequence for sequence in sequences if sequence in failed), None)


def _stream_record(record: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": body, "awsRegion": region, "eventSourceARN": arn}


def reap_expired(now: datetime, tables: Iterable[type[Model]] = resources.TABLES) -> int:
    """Delete every row whose TTL attribute is before ``now``; returns how many were deleted.

    Deleting through the table (not around it) makes DynamoDB Streams carry the removal, as TTL does.
    ``now`` is the stack's clock, so moving it (``POST /_local/clock``) expires rows as time would.
    """
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

    def __init__(self, app: Chalice, cfg: Settings, clock: Clock, reap_every_s: float = 10.0) -> None:
        super().__init__(name="local-events", daemon=True)
        self._clock = clock
        self._pump = SqsPump(app, cfg)
        self._streams = StreamPump(app, cfg)
        self._stopping = threading.Event()
        self._reap_every_s = reap_every_s

    def run(self) -> None:
        next_reap = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_reap:
                    reap_expired(self._clock.now())
                    next_reap = time.monotonic() + self._reap_every_s
                streamed = self._streams.run_once()
                # Short polls, not long ones: a long poll per queue, in turn, would leave a message waiting
                # for every other queue's poll to end before its handler runs.
                if not self._pump.run_once(wait_s=0) and not streamed:
                    self._stopping.wait(0.25)
            except Exception as err:
                print(f"local events: {type(err).__name__}: {err}", flush=True)
                self._stopping.wait(1)

    def stop(self) -> None:
        """Ask the loop to end; it finishes its current batch first."""
        self._stopping.set()
