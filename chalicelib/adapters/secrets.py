"""The signing key in Secrets Manager: its AWSCURRENT and AWSPREVIOUS versions, and its rotation.

Reads go through Powertools' parameters utility, which caches each value for ``max_age_s``: a warm
Lambda asks Secrets Manager twice per ``max_age_s`` at most, not on every request. Powertools keys its
cache by secret name only (not by version stage), so each stage has a provider, and a cache, of its own.
It is imported, and the client made, on first use: only the functions that sign pay for them, and none
at cold start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.domain.keys import KeyRing, KeyStage

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

_LABELS = {KeyStage.CURRENT: "AWSCURRENT", KeyStage.PREVIOUS: "AWSPREVIOUS", KeyStage.PENDING: "AWSPENDING"}
#: How long a read key is used before it is read again (a rotation reaches every instance within this).
MAX_AGE_S = 300
#: Forced re-reads (``refresh``) closer together than this are served from the last one.
MIN_REFRESH_S = 30.0


class SecretsManagerKeys:
    """``SigningKeys`` on one Secrets Manager secret; ``make_client`` makes its boto3 client when first needed."""

    def __init__(
        self,
        make_client: Callable[[], Any],
        secret_id: str,
        *,
        max_age_s: int = MAX_AGE_S,
        min_refresh_s: float = MIN_REFRESH_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make_client = make_client
        self._client_made: Any = None
        self._secret_id = secret_id
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._monotonic = monotonic
        self._providers: dict[KeyStage, SecretsProvider] = {}
        self._lock = threading.Lock()
        self._refreshed_at: float | None = None
        self._no_previous_until: float | None = None

    def key_ring(self, *, refresh: bool = False) -> KeyRing:
        """The current and previous keys, cached; ``refresh`` reads them again (rationed)."""
        force = refresh and self._may_refresh()
        current = self._read(KeyStage.CURRENT, force)
        if current is None:
            raise LookupError("The signing key secret has no current version")
        return KeyRing(current, self._previous(force))

    def stages(self, version: str) -> frozenset[KeyStage]:
        """Where ``version`` stands, from the secret's description."""
        labels = self._versions().get(version, [])
        return frozenset(stage for stage, label in _LABELS.items() if label in labels)

    def key(self, version: str) -> bytes | None:
        """A version's key material, read past the cache; None when the version has none."""
        try:
            value = self._client.get_secret_value(SecretId=self._secret_id, VersionId=version)
        except ClientError as err:
            if _code(err) == "ResourceNotFoundException":
                return None
            raise
        return _material(value.get("SecretString", value.get("SecretBinary")))

    def put_pending(self, version: str, key: bytes) -> None:
        """Store ``key`` as the pending ``version`` (Secrets Manager ignores a repeat of the same put)."""
        self._client.put_secret_value(
            SecretId=self._secret_id,
            ClientRequestToken=version,
            SecretString=key.decode("ascii"),
            VersionStages=[_LABELS[KeyStage.PENDING]],
        )

    def promote(self, version: str) -> None:
        """Move AWSCURRENT to ``version`` (Secrets Manager moves AWSPREVIOUS to the old one) and clear AWSPENDING."""
        versions = self._versions()
        current = next((v for v, labels in versions.items() if _LABELS[KeyStage.CURRENT] in labels), None)
        if current != version:
            self._client.update_secret_version_stage(
                SecretId=self._secret_id,
                VersionStage=_LABELS[KeyStage.CURRENT],
                MoveToVersionId=version,
                **({"RemoveFromVersionId": current} if current else {}),
            )
        if _LABELS[KeyStage.PENDING] in versions.get(version, []):
            self._client.update_secret_version_stage(
                SecretId=self._secret_id, VersionStage=_LABELS[KeyStage.PENDING], RemoveFromVersionId=version
            )

    @property
    def _client(self) -> Any:
        with self._lock:
            if self._client_made is None:
                self._client_made = self._make_client()
            return self._client_made

    # ------------------------------------------------------------------ reading through Powertools

    def _may_refresh(self) -> bool:
        now = self._monotonic()
        with self._lock:
            if self._refreshed_at is not None and now - self._refreshed_at < self._min_refresh_s:
                return False
            self._refreshed_at = now
            return True

    def _previous(self, force: bool) -> bytes | None:
        # A secret never rotated has no AWSPREVIOUS; Powertools caches no failure, so the absence is
        # remembered here for as long as a value would be.
        if not force and self._no_previous_until is not None and self._monotonic() < self._no_previous_until:
            return None
        previous = self._read(KeyStage.PREVIOUS, force)
        self._no_previous_until = self._monotonic() + self._max_age_s if previous is None else None
        return previous

    def _read(self, stage: KeyStage, force: bool) -> bytes | None:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._provider(stage).get(
                self._secret_id, max_age=self._max_age_s, force_fetch=force, VersionStage=_LABELS[stage]
            )
        except GetParameterError as err:
            # Powertools wraps the SDK's error; the stage's absence is the one answer that is not a fault.
            cause = err.__cause__ or err.__context__
            if isinstance(cause, ClientError) and _code(cause) == "ResourceNotFoundException":
                return None
            raise
        return _material(value)

    def _provider(self, stage: KeyStage) -> SecretsProvider:
        client = self._client
        with self._lock:
            if stage not in self._providers:
                from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

                self._providers[stage] = SecretsProvider(boto3_client=client)
            return self._providers[stage]

    def _versions(self) -> dict[str, list[str]]:
        described = self._client.describe_secret(SecretId=self._secret_id)
        versions: dict[str, list[str]] = described.get("VersionIdsToStages", {})
        return versions


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _material(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    raise TypeError("The signing key secret holds neither text nor bytes")
