"""Every contract test runs twice: on the in-memory fakes and on the real adapters (moto in-process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import wiring
from chalicelib.services.deps import Deps
from tests.fakes import fake_deps


@pytest.fixture(params=["fake", "aws"])
def real_or_fake(request: pytest.FixtureRequest) -> Iterator[Deps]:
    """The fakes, then the real adapters: the same checks must pass on both."""
    if request.param == "fake":
        yield fake_deps()
    else:
        request.getfixturevalue("aws")
        yield wiring.build()
