"""The API Gateway authorizer: ``Authorization: Bearer <key>`` → the calling clinic.

Results are not cached (``ttl_seconds=0``) so that a revoked key stops working at once.
API Gateway answers 401 itself when the header is missing; a key we do not accept is denied (403).
"""

from __future__ import annotations

from chalice.app import AuthRequest, AuthResponse, Blueprint

from chalicelib.domain.errors import DomainError
from chalicelib.observability import logger
from chalicelib.services.accounts import authenticate
from chalicelib.wiring import deps

bp = Blueprint(__name__)


@bp.authorizer(ttl_seconds=0, header="Authorization")
def clinic_key(auth_request: AuthRequest) -> AuthResponse:
    """Allow every route for an active key's clinic; deny anything else."""
    try:
        principal = authenticate(auth_request.token, deps())
    except DomainError as err:
        logger.info("api key refused", extra={"reason": type(err).__name__})
        return AuthResponse(routes=[], principal_id="anonymous")
    logger.append_keys(clinic_id=principal.clinic_id, key_id=principal.key_id)
    return AuthResponse(routes=["*"], principal_id=principal.clinic_id, context={"key_id": principal.key_id})
