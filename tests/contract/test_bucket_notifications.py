"""Only what clients upload wakes a worker: the service's own objects (thumbnails, checked chat files,
previews, quarantine) are filtered out by the bucket's notification, on moto as in the template."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import boto3
import pytest

from chalicelib.adapters import resources
from chalicelib.settings import settings

pytestmark = pytest.mark.contract

PREFIX = "attachments/cl_00000000000000a1/vi_00000000000000000001/at_00000000000000000001/"


def queued(queue: resources.Queue) -> list[str]:
    sqs = boto3.client("sqs", region_name=settings().region)
    url = sqs.get_queue_url(QueueName=queue.name(settings()))["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    return [unquote_plus(r["s3"]["object"]["key"]) for body in bodies for r in body.get("Records", [])]


@pytest.mark.parametrize(
    ("bucket", "woken", "quiet"),
    [
        (resources.BUCKETS[0], "uploads/cl_1/up_1/00000.dcm", ["thumbnails/cl_1/1.2.3.jpg", "quarantine/cl_1/x.dcm"]),
        (resources.BUCKETS[2], PREFIX + "upload", [PREFIX + "file", PREFIX + "preview.jpg"]),
    ],
)
def test_a_worker_hears_of_uploads_only(aws: None, bucket: resources.Bucket, woken: str, quiet: list[str]) -> None:
    assert bucket.notify is not None
    s3 = boto3.client("s3", region_name=settings().region)
    for key in quiet:
        s3.put_object(Bucket=bucket.name(settings()), Key=key, Body=b"x")
    assert queued(bucket.notify) == []
    s3.put_object(Bucket=bucket.name(settings()), Key=woken, Body=b"x")
    assert queued(bucket.notify) == [woken]
