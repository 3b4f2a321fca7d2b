"""Fixtures of the security suite: the real DynamoDB adapters on in-process moto, on a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from chalicelib import wiring
from chalicelib.services.deps import Deps
from tests.fakes import FakeClock, FakeMailer, FakeSmsSender


@pytest.fixture
def moto_deps(aws: None, clock: FakeClock) -> Iterator[Deps]:
    """Real tables (moto), the test's clock, and the fake mailer and SMS sender (whose messages it reads)."""
    with wiring.override(replace(wiring.build(), clock=clock, mailer=FakeMailer(), sms=FakeSmsSender())) as deps:
        yield deps
