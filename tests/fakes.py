"""In-memory fakes of the ports, with inspectable state. ``tests/contract`` keeps them honest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.accounts import ApiKey, Clinic
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.services.deps import Deps


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


class InMemoryClinicRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Clinic] = {}

    def add(self, clinic: Clinic) -> None:
        if clinic.clinic_id in self.rows:
            raise Conflict("A clinic with this id exists already")
        self.rows[clinic.clinic_id] = clinic

    def get(self, clinic_id: str) -> Clinic:
        try:
            return self.rows[clinic_id]
        except KeyError:
            raise NotFound("No such clinic") from None

    def save(self, clinic: Clinic) -> None:
        if clinic.clinic_id not in self.rows:
            raise NotFound("No such clinic")
        self.rows[clinic.clinic_id] = clinic


class InMemoryApiKeyRepository:
    def __init__(self) -> None:
        self.rows: dict[str, ApiKey] = {}

    def add(self, key: ApiKey) -> None:
        if key.key_id in self.rows:
            raise Conflict("An API key with this id exists already")
        self.rows[key.key_id] = key

    def get(self, key_id: str) -> ApiKey:
        try:
            return self.rows[key_id]
        except KeyError:
            raise NotFound("No such API key") from None

    def save(self, key: ApiKey) -> None:
        if key.key_id not in self.rows:
            raise NotFound("No such API key")
        self.rows[key.key_id] = key


def fake_deps(clock: FakeClock | None = None) -> Deps:
    """A full set of in-memory dependencies."""
    return Deps(
        clock=clock or FakeClock(),
        clinics=InMemoryClinicRepository(),
        api_keys=InMemoryApiKeyRepository(),
    )
