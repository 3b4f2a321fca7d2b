"""The share worker: prepare a share's files (anonymized DICOM, pictures, MP4 cine loops) and send its link.

It takes ``{"share_id": …}`` jobs from SQS, one at a time. A job that fails is retried by SQS and, after
the queue's maxReceiveCount, dead-lettered (an alarm watches the DLQ).

It needs PyAV (H.264) beside numpy and pydicom, more than a zip Lambda holds, so it runs from the media
container image (``infra/media/``), not from the package Chalice builds; ``api.register_media``.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Blueprint, SQSEvent

from chalicelib.observability import logger, observed
from chalicelib.services import shares
from chalicelib.settings import settings
from chalicelib.wiring import deps
from chalicelib.workers.batch import each_record

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=settings().queue_name("share"), batch_size=1)
@observed
def share_worker(event: SQSEvent) -> dict[str, Any]:
    """Prepare a share's files and send its link."""

    def handle(body: str) -> None:
        share_id = str(json.loads(body)["share_id"])
        logger.append_keys(share_id=share_id)
        try:
            share = shares.prepare_and_send(share_id, deps())
            logger.info("share job done", extra={"status": share.status.value})
        finally:
            logger.remove_keys(["share_id"])

    return each_record(event, handle)
