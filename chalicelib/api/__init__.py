"""HTTP routes and event handlers, one Blueprint per area."""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.api import auth, chat, clinic, dicomweb, health, patient, requests, settings, shares, studies, visits
from chalicelib.workers import attachments as attachment_worker
from chalicelib.workers import chat_cleanup, share_cleanup
from chalicelib.workers import ingest as ingest_worker
from chalicelib.workers import shares as share_workers


def register(app: Chalice) -> None:
    """Register every Blueprint on ``app``."""
    requests.bind(app)
    app.api.binary_types.extend(["multipart/related", "application/dicom"])
    for module in (
        auth,
        health,
        clinic,
        settings,
        studies,
        dicomweb,
        shares,
        patient,
        ingest_worker,
        share_workers,
        share_cleanup,
    ):
        app.register_blueprint(module.bp)
    for module in (visits, chat, attachment_worker, chat_cleanup):
        app.register_blueprint(module.bp)
