"""The fake signing keys behave as the Secrets Manager adapter does (on moto): stages, caching, rotation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from chalicelib.adapters.aws import client
from chalicelib.adapters.secrets import SecretsManagerKeys
from chalicelib.domain.keys import KeyRing, KeyStage
from chalicelib.services.ports import SigningKeys
from chalicelib.settings import settings
from tests.fakes import FakeSigningKeys

pytestmark = pytest.mark.contract

K1, K2 = b"1" * 64, b"2" * 64
V1, V2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


@dataclass
class Seconds:
    """A monotonic clock the test moves."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def seconds() -> Seconds:
    return Seconds()


@pytest.fixture(params=["fake", "aws"])
def store(request: pytest.FixtureRequest, seconds: Seconds) -> Iterator[SigningKeys]:
    """The fake, then the adapter on the secret the local stack creates (as ``make run`` does)."""
    if request.param == "fake":
        yield FakeSigningKeys(b"0" * 64, min_refresh_s=30, monotonic=seconds)
    else:
        request.getfixturevalue("aws")
        yield SecretsManagerKeys(
            lambda: client("secretsmanager"), settings().signing_secret, min_refresh_s=30, monotonic=seconds
        )


def test_a_key_never_rotated_is_current_alone(store: SigningKeys) -> None:
    ring = store.key_ring()
    assert len(ring.current) >= 64
    assert ring.previous is None
    assert store.key_ring(refresh=True) == ring


def test_an_unknown_version_has_no_stage_and_no_key(store: SigningKeys) -> None:
    assert store.stages(V1) == frozenset()
    assert store.key(V1) is None


def test_a_pending_version_holds_its_key_but_signs_nothing(store: SigningKeys) -> None:
    before = store.key_ring()
    store.put_pending(V1, K1)
    store.put_pending(V1, K1)  # a retried step
    assert store.stages(V1) == {KeyStage.PENDING}
    assert store.key(V1) == K1
    assert store.key_ring(refresh=True) == before


def test_promoting_makes_the_pending_key_current_and_the_current_one_previous(
    store: SigningKeys, seconds: Seconds
) -> None:
    before = store.key_ring()
    store.put_pending(V1, K1)
    store.promote(V1)
    store.promote(V1)  # a retried step
    assert store.stages(V1) == {KeyStage.CURRENT}
    assert store.key_ring() == before  # what was read is served until it is read again
    assert store.key_ring(refresh=True) == KeyRing(K1, before.current)

    store.put_pending(V2, K2)
    store.promote(V2)
    assert store.stages(V1) == {KeyStage.PREVIOUS}
    seconds.now += 30
    assert store.key_ring(refresh=True) == KeyRing(K2, K1)  # the first key is retired


def test_forced_reads_closer_together_than_the_limit_are_served_from_the_last(
    store: SigningKeys, seconds: Seconds
) -> None:
    before = store.key_ring(refresh=True)
    store.put_pending(V1, K1)
    store.promote(V1)
    seconds.now += 29
    assert store.key_ring(refresh=True) == before
    seconds.now += 1
    assert store.key_ring(refresh=True) == KeyRing(K1, before.current)
