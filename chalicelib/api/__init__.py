"""HTTP routes and event handlers, one Blueprint per area."""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.api import auth, clinic, dicomweb, health, requests, studies
from chalicelib.workers import ingest as ingest_worker


def register(app: Chalice) -> None:
    """Register every Blueprint on ``app``."""
    requests.bind(app)
    app.api.binary_types.extend(["multipart/related", "application/dicom"])
    for module in (auth, health, clinic, studies, dicomweb, ingest_worker):
        app.register_blueprint(module.bp)
