"""HTTP routes and event handlers, one Blueprint per area.

Two deployables share this code. ``register`` builds the app Chalice packages as a zip: the API and
the light workers. ``register_media`` adds the media workers, which need PyAV and pillow-heif, more
than Lambda's 250 MB zip limit holds beside numpy: they run from the container image built by
``infra/media/`` (the local stack registers both on one app, as AWS runs both).
"""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.api import (
    auth,
    chat,
    clinic,
    console,
    console_security,
    console_shares,
    console_studies,
    console_upload,
    console_visits,
    dicomweb,
    health,
    openapi,
    patient,
    requests,
    settings,
    shares,
    studies,
    visits,
)
from chalicelib.workers import attachments as attachment_worker
from chalicelib.workers import chat_cleanup, delivery, delivery_events, rotation, share_cleanup, share_files
from chalicelib.workers import ingest as ingest_worker

#: The Blueprints of the media container image's functions.
MEDIA_WORKERS = (share_files, attachment_worker)


def register(app: Chalice) -> None:
    """Register the Blueprints of the zip package on ``app``."""
    requests.bind(app)
    app.api.binary_types.extend(["multipart/related", "application/dicom"])
    for module in (
        auth,
        health,
        openapi,
        clinic,
        settings,
        studies,
        dicomweb,
        shares,
        patient,
        visits,
        chat,
        console,
        console_visits,
        console_upload,
        console_studies,
        console_shares,
        console_security,
        ingest_worker,
        delivery,
        delivery_events,
        share_cleanup,
        chat_cleanup,
        rotation,
    ):
        app.register_blueprint(module.bp)


def register_media(app: Chalice) -> None:
    """Register the media workers' Blueprints on ``app``."""
    for module in MEDIA_WORKERS:
        app.register_blueprint(module.bp)
