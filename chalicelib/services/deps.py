"""The dependencies a service may use, bundled so routes can pass them in one argument."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.services.ports import ApiKeyRepository, ClinicRepository, Clock


@dataclass(frozen=True)
class Deps:
    """Every port a service may need; built once by ``wiring`` (or by a test, with fakes)."""

    clock: Clock
    clinics: ClinicRepository
    api_keys: ApiKeyRepository
