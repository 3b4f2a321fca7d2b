"""Sealed values: unreadable and unchangeable by whoever carries them, expiring, and still opened across one key
rotation, as signed values are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.keys import KeyRing
from chalicelib.domain.sealed import seal, unseal

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OLD, NEW, NEWER = (bytes([n]) * 32 for n in (1, 2, 3))
PURPOSE = b"patient-share test"


def test_a_sealed_value_hides_its_claims_and_opens_until_it_expires() -> None:
    keys = KeyRing(OLD).derived(PURPOSE)
    value = seal({"access": "the-access-token"}, keys, NOW + timedelta(minutes=5))
    assert "the-access-token" not in value
    assert unseal(value, keys, NOW + timedelta(minutes=4, seconds=59)) == {"access": "the-access-token"}
    with pytest.raises(Unauthenticated):
        unseal(value, keys, NOW + timedelta(minutes=5))


def test_it_opens_under_the_previous_key_after_a_rotation_and_never_for_another_purpose() -> None:
    value = seal({"a": "b"}, KeyRing(OLD).derived(PURPOSE), NOW + timedelta(minutes=5))
    assert unseal(value, KeyRing(NEW, previous=OLD).derived(PURPOSE), NOW) == {"a": "b"}
    with pytest.raises(Unauthenticated):
        unseal(value, KeyRing(NEWER, previous=NEW).derived(PURPOSE), NOW)
    with pytest.raises(Unauthenticated):
        unseal(value, KeyRing(OLD).derived(b"another purpose"), NOW)


@pytest.mark.parametrize("value", ["", "e30.forged", "a.b.c.d.e", "é" * 40, "eyJhbGciOiJub25lIn0....."])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(Unauthenticated):
        unseal(value, KeyRing(OLD).derived(PURPOSE), NOW)
