"""The signing key's rotation function: Secrets Manager calls it once per step of each rotation.

The event is ``{"SecretId": <ARN>, "ClientRequestToken": <version>, "Step": "createSecret" | …}``; the
steps themselves are ``services.keys.rotation_step``. It rotates this deployment's signing key only.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.domain.errors import InvalidInput
from chalicelib.observability import logger, observed
from chalicelib.services.keys import RotationStep, rotation_step
from chalicelib.settings import settings
from chalicelib.wiring import deps

bp = Blueprint(__name__)


@bp.lambda_function(name="rotate_secret_key")
@observed
def rotate_secret_key(event: dict[str, Any], context: Any) -> None:
    """Run one step of a rotation of the signing key."""
    if event.get("SecretId") != settings().signing_secret:
        raise InvalidInput("This function rotates the deployment's signing key only")
    steps = {step.value: step for step in RotationStep}
    if event.get("Step") not in steps:
        raise InvalidInput("Unknown rotation step")
    version = str(event.get("ClientRequestToken") or "")
    rotation_step(steps[event["Step"]], version, deps())
    logger.info("signing key rotation step done", extra={"step": event["Step"], "version": version})
