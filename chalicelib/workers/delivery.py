"""The delivery worker: send a link again to the contacts not reached yet, a share's or a visit's.

It takes ``{"share_id": …}`` or ``{"visit_id": …}`` jobs from SQS. A job that fails is retried by SQS
and, after the queue's maxReceiveCount, dead-lettered (an alarm watches the DLQ); records fail one by one.
(The share worker, which prepares a share's files, is in ``share_files``.)
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.observability import logger, observed
from chalicelib.services import shares, visits
from chalicelib.settings import settings
from chalicelib.wiring import deps
from chalicelib.workers.batch import each_record

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings().queue_name("delivery"), batch_size=10)
@observed
def delivery_worker(event: SQSEvent) -> dict[str, Any]:
    """Send a link again to the contacts not reached yet: a ready share's, or a visit's."""

    def handle(body: str) -> None:
        job = json.loads(body)
        if "visit_id" in job:
            visit = visits.redeliver(str(job["visit_id"]), deps())
            logger.info("visit link delivery done", extra={"visit_id": visit.visit_id})
        else:
            share = shares.deliver(str(job["share_id"]), deps())
            logger.info("share delivery done", extra={"share_id": share.share_id, "status": share.status.value})

    return each_record(event, handle)
