from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import links
from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.deliveries import Delivery, DeliveryStatus
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.shares import (
    MAX_FAILED_ATTEMPTS,
    ActorKind,
    Attempts,
    LinkDeleted,
    LinkExpired,
    LinkLocked,
    LinkState,
    Share,
    ShareCursor,
    ShareStatus,
    StillPreparing,
    TooManyCodes,
    WrongSecret,
    actor_of,
    key_actor,
    language,
    lifetime,
    staff_actor,
)
from tests import patient_data
from tests.fakes import FakeClock


def share(clock: FakeClock, **changes: object) -> Share:
    now = clock.now()
    base = Share(
        share_id="sh_1",
        clinic_id="cl_1",
        study_instance_uid="1.2.3",
        sop_instance_uids=None,
        deliveries=(
            Delivery(
                1, Contact(ContactKind.EMAIL, patient_data.EMAILS[0]), DeliveryStatus.SENT, attempts=1, sent_at=now
            ),
            Delivery(2, Contact(ContactKind.SMS, patient_data.PHONES[0]), DeliveryStatus.FAILED, reason="Throttling"),
        ),
        language="sv",
        token_hash=links.token_hash(links.new_token()),
        token_nonce=links.new_nonce(),
        created_at=now,
        expires_at=now + timedelta(days=90),
        status=ShareStatus.READY,
    )
    return Share(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_tokens_carry_256_bits_and_are_stored_hashed() -> None:
    token = links.new_token()
    assert len(token) >= 43
    assert links.looks_like_token(token)
    assert links.token_hash(token) != token
    assert links.token_hash(token) == links.token_hash(token)
    assert links.new_token() != token
    assert not links.looks_like_token("../../etc/passwd")


def test_link_tokens_are_reproducible_only_with_the_key() -> None:
    nonce = links.new_nonce()
    token = links.link_token(b"k" * 32, "share", "sh_1", nonce)
    assert token == links.link_token(b"k" * 32, "share", "sh_1", nonce)
    assert links.looks_like_token(token)
    assert len(token) == 43  # 256 bits
    assert token != links.link_token(b"j" * 32, "share", "sh_1", nonce)
    assert token != links.link_token(b"k" * 32, "share", "sh_1", links.new_nonce())
    assert token != links.link_token(b"k" * 32, "visit", "sh_1", nonce)


def test_typed_secrets_are_salted_and_checked() -> None:
    stored = links.hash_secret("1234-abcd")
    assert stored != links.hash_secret("1234-abcd")
    assert links.secret_matches("1234-abcd", stored)
    assert not links.secret_matches("1234-abce", stored)
    assert not links.secret_matches("x", "garbage")
    assert len(links.new_one_time_code()) == 6


def test_resend_never_extends_the_life_and_resets_deliveries(clock: FakeClock) -> None:
    original = share(clock)
    clock.advance(days=10)
    again = original.resent(clock.now())
    assert again.expires_at == original.expires_at
    assert [d.contact for d in again.deliveries] == [d.contact for d in original.deliveries]
    assert {d.status for d in again.deliveries} == {DeliveryStatus.QUEUED}


def test_an_expired_link_cannot_be_resent(clock: FakeClock) -> None:
    original = share(clock)
    clock.advance(days=90)
    with pytest.raises(LinkExpired, match="send the patient a new link"):
        original.resent(clock.now())


def test_a_deleted_link_is_gone_for_good(clock: FakeClock) -> None:
    deleted = share(clock).deleted(clock.now())
    with pytest.raises(LinkDeleted):
        deleted.ensure_open(clock.now())
    with pytest.raises(LinkDeleted):
        deleted.resent(clock.now())
    first = deleted.deleted_at
    clock.advance(hours=1)
    assert deleted.deleted(clock.now()).deleted_at == first


def test_a_share_being_prepared_is_not_resent(clock: FakeClock) -> None:
    with pytest.raises(StillPreparing):
        share(clock, status=ShareStatus.QUEUED).resent(clock.now())


def test_the_fifth_attempt_locks_for_15_minutes_and_only_time_or_an_administrator_lifts_it(clock: FakeClock) -> None:
    attempts = Attempts()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        attempts = attempts.taken(clock.now())
        attempts.ensure_unlocked(clock.now())
    attempts = attempts.taken(clock.now())
    with pytest.raises(LinkLocked, match="15 minutes") as locked:
        attempts.taken(clock.now())
    assert locked.value.retry_after_s == 15 * 60
    assert attempts.cleared(clock.now()) == attempts  # a right secret does not lift a lock in force
    assert attempts.lifted(clock.now()) == Attempts()  # an administrator does
    assert Attempts(3).lifted(clock.now()) == Attempts(3)  # without a lock there is nothing to lift
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(LinkLocked):
        attempts.ensure_unlocked(clock.now())
    clock.advance(seconds=1)
    assert attempts.taken(clock.now()) == Attempts(1, None)  # a new window
    assert Attempts(3).cleared(clock.now()) == Attempts()


def test_a_link_is_live_expired_or_deleted_by_the_rules_that_open_it(clock: FakeClock) -> None:
    live = share(clock)
    assert live.state(clock.now()) is LinkState.LIVE
    assert live.state(live.expires_at) is LinkState.EXPIRED
    with pytest.raises(LinkExpired):
        live.ensure_open(live.expires_at)
    deleted = live.deleted(clock.now())
    assert deleted.state(clock.now()) is deleted.state(live.expires_at) is LinkState.DELETED  # deleted wins


def test_a_cursor_survives_the_query_string_and_refuses_anything_else(clock: FakeClock) -> None:
    cursor = ShareCursor.after(share(clock))
    assert ShareCursor.parse(cursor.text()) == cursor
    assert cursor.comes_before(share(clock, created_at=clock.now() - timedelta(seconds=1)))
    assert cursor.comes_before(share(clock, share_id="sh_0"))  # same instant: the id decides
    assert not cursor.comes_before(share(clock))
    for bad in ("", "x", "%%%", "MjAyNi0xMS0yM3xzaF8x", cursor.text()[:-2] + "!!"):
        with pytest.raises(InvalidInput, match="'cursor'"):
            ShareCursor.parse(bad)


def test_the_audit_tells_staff_keys_and_visitors_apart() -> None:
    assert actor_of(staff_actor("u-1")) == (ActorKind.STAFF, "u-1")
    assert actor_of(key_actor("ky_2")) == (ActorKind.KEY, "ky_2")
    assert actor_of("0123456789abcdef") == (ActorKind.VISITOR, "0123456789abcdef")
    assert actor_of("staff:") == (ActorKind.VISITOR, "staff:")


def test_a_code_works_once(clock: FakeClock) -> None:
    code_hash = links.hash_secret("123456")
    current = share(clock, needs_password=True).with_code(code_hash, clock.now())
    used = current.code_used(code_hash, clock.now())
    assert not used.code_usable(clock.now())
    with pytest.raises(WrongSecret):
        used.code_used(code_hash, clock.now())
    clock.advance(minutes=15)
    with pytest.raises(WrongSecret):
        current.code_used(code_hash, clock.now())  # expired


def test_codes_at_most_three_an_hour_and_valid_fifteen_minutes(clock: FakeClock) -> None:
    current = share(clock, needs_password=True)
    for _ in range(3):
        current = current.with_code(links.hash_secret("123456"), clock.now())
        clock.advance(minutes=10)
    with pytest.raises(TooManyCodes):
        current.with_code(links.hash_secret("123456"), clock.now())
    assert current.code_usable(clock.now())  # the latest was sent 10 minutes ago
    clock.advance(minutes=31)
    current = current.with_code(links.hash_secret("654321"), clock.now())
    assert current.code_usable(clock.now())
    clock.advance(minutes=15)
    assert not current.code_usable(clock.now())


@pytest.mark.parametrize("days", [0, 366, -5, True, "30"])
def test_lifetimes_are_bounded(days: object) -> None:
    with pytest.raises(InvalidInput):
        lifetime(days, 90)  # type: ignore[arg-type]
    assert lifetime(None, 90) == timedelta(days=90)


def test_languages() -> None:
    assert language(None, "sv") == "sv"
    assert language("en", "sv") == "en"
    with pytest.raises(InvalidInput):
        language("de", "sv")
