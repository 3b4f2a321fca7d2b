"""JobQueue on SQS."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class SqsJobQueue:
    """Sends jobs to our queues by short name ("share"); URLs are looked up once."""

    def __init__(self, client: Any, queue_name: Callable[[str], str]) -> None:
        self._sqs = client
        self._queue_name = queue_name
        self._urls: dict[str, str] = {}

    def send(self, queue: str, message: dict[str, str]) -> None:
        if queue not in self._urls:
            self._urls[queue] = self._sqs.get_queue_url(QueueName=self._queue_name(queue))["QueueUrl"]
        self._sqs.send_message(QueueUrl=self._urls[queue], MessageBody=json.dumps(message, sort_keys=True))
