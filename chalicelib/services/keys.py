"""Use cases of the deployment's signing key: re-making a link that was sent, and rotating the key.

Rotation follows Secrets Manager's four steps, each called with the version being made: ``createSecret``
stores fresh key material as the pending version, ``setSecret`` has nothing to do (no other system holds
this key), ``testSecret`` checks the pending material is a usable key, and ``finishSecret`` makes it
current, which turns the old current key into the previous one. Every step may run twice (Secrets Manager
retries): each does nothing when its work is done.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import StrEnum

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.keys import KeyRing, KeyStage, new_key_material
from chalicelib.domain.links import LinkRetired, token_under
from chalicelib.services.deps import Deps


def sent_token(stored_hash: str, make: Callable[[bytes], str], deps: Deps) -> str:
    """The token of a link as it was sent, re-made under the key it was made with (current or previous).

    A key this process has not read yet (a rotation in the last minutes) is read once more before giving
    up. Raises LinkRetired when neither key makes it: a link older than two rotations still opens, but
    cannot be re-made, and a resend must never send a link that does not open.
    """
    for refresh in (False, True):
        token = token_under(deps.keys.key_ring(refresh=refresh), stored_hash, make)
        if token is not None:
            return token
    raise LinkRetired("This link was made before the last two key rotations and cannot be sent again; make a new one")


class RotationStep(StrEnum):
    """The steps of a rotation, named as Secrets Manager calls the rotation function."""

    CREATE = "createSecret"
    SET = "setSecret"
    TEST = "testSecret"
    FINISH = "finishSecret"


def rotation_step(step: RotationStep, version: str, deps: Deps) -> None:
    """Run one step of the rotation that makes ``version`` the current key."""
    stages = deps.keys.stages(version)
    if KeyStage.CURRENT in stages:
        return  # this rotation has finished already
    if KeyStage.PENDING not in stages:
        raise InvalidInput("That version is not being rotated in")
    if step is RotationStep.CREATE:
        if deps.keys.key(version) is None:
            deps.keys.put_pending(version, new_key_material())
    elif step is RotationStep.TEST:
        pending = deps.keys.key(version)
        if pending is None:
            raise InvalidInput("The pending version has no key material")
        KeyRing(pending)  # raises WeakKey for material too short to sign with
    elif step is RotationStep.FINISH:
        deps.keys.promote(version)


def rotate_now(deps: Deps) -> str:
    """Rotate the key at once, through the same steps as a scheduled rotation; returns the new version."""
    version = str(uuid.uuid4())
    deps.keys.put_pending(version, new_key_material())
    for step in RotationStep:
        rotation_step(step, version, deps)
    return version
