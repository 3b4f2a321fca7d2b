"""Ports: the interfaces services depend on. Adapters implement them; tests use in-memory fakes."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chalicelib.domain.accounts import ApiKey, Clinic


class Clock(Protocol):
    """The current time; injected so that rules about time can be tested."""

    def now(self) -> datetime:
        """The current UTC time, timezone-aware."""
        ...


class ClinicRepository(Protocol):
    """Clinics by id."""

    def add(self, clinic: Clinic) -> None:
        """Store a new clinic; raises Conflict when the id is taken."""
        ...

    def get(self, clinic_id: str) -> Clinic:
        """The clinic with this id; raises NotFound."""
        ...

    def save(self, clinic: Clinic) -> None:
        """Store a changed clinic; raises NotFound when it does not exist."""
        ...


class ApiKeyRepository(Protocol):
    """API keys by their public key id."""

    def add(self, key: ApiKey) -> None:
        """Store a new key; raises Conflict when the key id is taken."""
        ...

    def get(self, key_id: str) -> ApiKey:
        """The key with this id; raises NotFound."""
        ...

    def save(self, key: ApiKey) -> None:
        """Store a changed key (e.g. revoked); raises NotFound when it does not exist."""
        ...
