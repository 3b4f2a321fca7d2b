"""The local stack's stand-ins for Lambda's SQS event source mapping and for DynamoDB TTL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from chalice.app import Chalice, SQSEvent
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.adapters import resources
from chalicelib.settings import settings
from local.events import SqsPump, reap_expired


def sqs_app(queue: str, seen: list[str]) -> Chalice:
    app = Chalice(app_name="pump-test")

    @app.on_sqs_message(queue=queue, batch_size=10)
    def handle(event: SQSEvent) -> dict[str, Any]:
        failures = []
        for record in event:
            seen.append(record.body)
            if record.body == "boom":
                failures.append({"itemIdentifier": record.to_dict()["messageId"]})
        return {"batchItemFailures": failures}

    return app


def test_the_pump_delivers_deletes_successes_and_dead_letters_what_keeps_failing(aws: None) -> None:
    cfg = settings()
    queue = resources.DELIVERY_QUEUE
    sqs = boto3.client("sqs", region_name=cfg.region)
    url = sqs.get_queue_url(QueueName=queue.name(cfg))["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=queue.dlq_name(cfg))["QueueUrl"]
    for body in ("one", "boom", "two"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    seen: list[str] = []
    pump = SqsPump(sqs_app(queue.name(cfg), seen), cfg, retry_delay_s=0)

    for _ in range(queue.max_receive_count + 2):
        pump.run_once()

    assert seen.count("one") == 1
    assert seen.count("two") == 1
    assert seen.count("boom") == queue.max_receive_count
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    dead = sqs.receive_message(QueueUrl=dlq_url)["Messages"]
    assert [m["Body"] for m in dead] == ["boom"]


def test_a_crashing_handler_leaves_every_message_for_a_retry(aws: None) -> None:
    cfg = settings()
    queue_name = resources.SHARE_QUEUE.name(cfg)
    sqs = boto3.client("sqs", region_name=cfg.region)
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"job": 1}))
    app = Chalice(app_name="crash-test")
    calls: list[int] = []

    @app.on_sqs_message(queue=queue_name)
    def handle(event: SQSEvent) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("worker crashed")

    pump = SqsPump(app, cfg, retry_delay_s=0)
    assert pump.run_once() == 1
    assert pump.run_once() == 1
    assert pump.run_once() == 0
    assert len(calls) == 2


class Expiring(Model):
    class Meta:
        table_name = "reaper-test"
        region = "eu-north-1"

    item_id = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute()


def test_the_reaper_deletes_only_rows_whose_ttl_has_passed(aws: None) -> None:
    Expiring.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    Expiring("old", expires_at=now - timedelta(seconds=1)).save()
    Expiring("now", expires_at=now).save()
    Expiring("later", expires_at=now + timedelta(days=1)).save()

    assert reap_expired(now, tables=[Expiring]) == 2
    assert [row.item_id for row in Expiring.scan()] == ["later"]
