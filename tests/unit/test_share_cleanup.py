"""When TTL removes a share's row, its files go too (the stream record's old image lists them)."""

from __future__ import annotations

import json

import pytest
from chalice.local import LambdaContext

from chalicelib.domain.errors import NotFound
from chalicelib.services.deps import Deps
from chalicelib.workers.share_cleanup import share_cleanup_worker


def stream_event(event_name: str, files: list[str]) -> dict[str, object]:
    body = json.dumps({"files": [{"key": k} for k in files]})
    return {
        "Records": [
            {
                "eventID": "1",
                "eventName": event_name,
                "eventSource": "aws:dynamodb",
                "eventSourceARN": "arn:aws:dynamodb:eu-north-1:000000000000:table/t/stream/s",
                "dynamodb": {
                    "Keys": {"share_id": {"S": "sh_1"}},
                    "OldImage": {"share_id": {"S": "sh_1"}, "body": {"S": body}},
                    "SequenceNumber": "1",
                    "StreamViewType": "OLD_IMAGE",
                },
            }
        ]
    }


def test_removed_rows_lose_their_files_and_other_events_change_nothing(deps: Deps) -> None:
    keys = ["shares/sh_1/images.zip", "shares/sh_1/cine-001.mp4"]
    for key in keys:
        deps.objects.put(deps.buckets.share, key, b"x", "application/octet-stream")
    context = LambdaContext("share_cleanup_worker", 256)

    assert share_cleanup_worker(stream_event("MODIFY", keys), context) == {"batchItemFailures": []}
    assert deps.objects.size(deps.buckets.share, keys[0]) == 1

    assert share_cleanup_worker(stream_event("REMOVE", keys), context) == {"batchItemFailures": []}
    for key in keys:
        with pytest.raises(NotFound):
            deps.objects.size(deps.buckets.share, key)
    # A redelivered record is harmless.
    assert share_cleanup_worker(stream_event("REMOVE", keys), context) == {"batchItemFailures": []}
