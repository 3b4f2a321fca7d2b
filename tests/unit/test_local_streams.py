"""The local stack's stand-in for Lambda's DynamoDB stream mapping, and the chat cleanup worker it drives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalice.app import Chalice, DynamoDBEvent

from chalicelib.adapters.dynamo.visits import MessageModel
from chalicelib.domain.visits import Attachment, Message, Role, file_key, preview_key, upload_key
from chalicelib.services.deps import Deps
from chalicelib.settings import settings
from local.events import StreamPump, reap_expired
from tests.fakes import FakeClock

CLINIC, VISIT, ATTACHMENT = "cl_00000000000000a1", "vi_00000000000000000001", "at_00000000000000000001"


def message(seq: int, attachment: Attachment | None = None, expires_in_days: float = 30) -> Message:
    now = FakeClock().now()
    return Message(
        visit_id=VISIT,
        clinic_id=CLINIC,
        seq=seq,
        sender=Role.PATIENT,
        sent_at=now,
        expires_at=now + timedelta(days=expires_in_days),
        text=None if attachment else "hej",
        attachment=attachment,
    )


def recording_app(seen: list[tuple[str, dict[str, Any]]], fail_first: int = 0) -> Chalice:
    app = Chalice(app_name="stream-test")
    calls: list[int] = []

    @app.on_dynamodb_record(stream_arn=settings().stream_arn("visit-messages"), starting_position="TRIM_HORIZON")
    def handle(event: DynamoDBEvent) -> dict[str, Any]:
        calls.append(1)
        if len(calls) <= fail_first:
            raise RuntimeError("handler crashed")
        for record in event.to_dict()["Records"]:
            seen.append((record["eventName"], record["dynamodb"].get("OldImage") or record["dynamodb"]["Keys"]))
        return {"batchItemFailures": []}

    return app


def test_the_pump_delivers_inserts_and_removals_in_order_once(real_deps: Deps) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    pump = StreamPump(recording_app(seen), settings())
    real_deps.messages.add(message(1))
    real_deps.messages.add(message(2))
    MessageModel(VISIT, 1).delete()
    assert pump.run_once() == 3
    assert [name for name, _ in seen] == ["INSERT", "INSERT", "REMOVE"]
    assert seen[2][1]["text"] == {"S": "hej"}
    assert pump.run_once() == 0


def test_a_failing_batch_is_read_again_then_given_up(real_deps: Deps) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    pump = StreamPump(recording_app(seen, fail_first=1), settings(), max_attempts=3)
    real_deps.messages.add(message(1))
    assert pump.run_once() == 1
    assert seen == []
    assert pump.run_once() == 1
    assert [name for name, _ in seen] == ["INSERT"]
    assert pump.run_once() == 0


def test_expired_attachment_rows_lose_their_files(real_deps: Deps) -> None:
    from app import app

    bucket = real_deps.buckets.chat
    attachment = Attachment(ATTACHMENT, "foto.jpg", "image/jpeg", 10).ready("image/jpeg", "image", 9, has_preview=True)
    real_deps.messages.add(message(1, expires_in_days=-1))
    real_deps.messages.add(message(2, attachment, expires_in_days=-1))
    real_deps.messages.add(message(3, expires_in_days=5))
    for key in (file_key, preview_key, upload_key):
        real_deps.objects.put(bucket, key(CLINIC, VISIT, ATTACHMENT), b"x", "image/jpeg")
    other = file_key(CLINIC, VISIT, "at_00000000000000000002")
    real_deps.objects.put(bucket, other, b"x", "image/jpeg")

    pump = StreamPump(app, settings())
    pump.run_once()  # the inserts: nothing to delete
    assert real_deps.objects.size(bucket, file_key(CLINIC, VISIT, ATTACHMENT)) == 1
    assert reap_expired(FakeClock().now(), tables=[MessageModel]) == 2
    assert pump.run_once() == 2

    import boto3

    s3 = boto3.client("s3", region_name=settings().region)
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert left == [other]
    assert [m.seq for m in real_deps.messages.after(VISIT, 0, 10)] == [3]
