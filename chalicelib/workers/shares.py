"""The share worker (prepare files, send the link) and the delivery worker (send again, retry).

Both take ``{"share_id": …}`` jobs from SQS. A job that fails is retried by SQS and, after the queue's
maxReceiveCount, dead-lettered (an alarm watches the DLQs); records fail one by one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.domain.shares import Share
from chalicelib.observability import logger, observed
from chalicelib.services import shares, visits
from chalicelib.settings import settings
from chalicelib.wiring import deps
from chalicelib.workers.batch import each_record

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings().queue_name("share"), batch_size=1)
@observed
def share_worker(event: SQSEvent) -> dict[str, Any]:
    """Prepare a share's files and send its link."""
    return _each(event, lambda share_id: shares.prepare_and_send(share_id, deps()))


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


def _each(event: SQSEvent, job: Callable[[str], Share]) -> dict[str, Any]:
    def handle(body: str) -> None:
        share_id = str(json.loads(body)["share_id"])
        logger.append_keys(share_id=share_id)
        try:
            share = job(share_id)
            logger.info("share job done", extra={"status": share.status.value})
        finally:
            logger.remove_keys(["share_id"])

    return each_record(event, handle)
