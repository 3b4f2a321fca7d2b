"""HTTP routes, one Blueprint per area."""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.api import auth, clinic, health, requests


def register(app: Chalice) -> None:
    """Register every Blueprint on ``app``."""
    requests.bind(app)
    for module in (auth, health, clinic):
        app.register_blueprint(module.bp)
