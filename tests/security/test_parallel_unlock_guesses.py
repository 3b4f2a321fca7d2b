"""Finding 1 (high): wrong guesses sent side by side were checked before they were counted.

Against DynamoDB (moto), 50 wrong guesses at a link's code are sent at once. Each attempt must be
counted on the stored share before its secret is looked at, so at most five are checked in a lock
window; the rest, and then the right code, are refused as locked (423, ``Retry-After``) until the
lock ends, or until an administrator of the clinic lifts it. A wrong guess is a 403, so that clients
and logs can tell the two apart.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client

from chalicelib.domain.errors import Forbidden
from chalicelib.domain.shares import MAX_FAILED_ATTEMPTS, AccessKind, Attempts, LinkLocked, staff_actor
from chalicelib.services import landing, shares
from chalicelib.services.deps import Deps
from tests.fakes import FakeClock
from tests.security.links import FORM, LINK_CODE, cookie_of, ready_share, shows_pictures

GUESSES = 50


def parallel_wrong_guesses(client: Client, token: str) -> Counter[int]:
    """``GUESSES`` wrong codes at a link, sent at once: how many got each status."""

    def guess(n: int) -> int:
        return client.http.post(f"/p/{token}/unlock", headers=FORM, body=f"secret={1000 + n}").status_code

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        return Counter(pool.map(guess, range(GUESSES)))


def test_fifty_parallel_wrong_guesses_check_at_most_five_then_the_right_code_waits(
    client: Client, moto_deps: Deps, clock: FakeClock, whole_requests: None
) -> None:
    share, token = ready_share(moto_deps, link_code=LINK_CODE)
    statuses = parallel_wrong_guesses(client, token)

    checked = [e for e in moto_deps.access_log.for_share(share.share_id) if e.kind is AccessKind.UNLOCK_FAILED]
    assert len(checked) == MAX_FAILED_ATTEMPTS
    assert statuses == {403: MAX_FAILED_ATTEMPTS, 423: GUESSES - MAX_FAILED_ATTEMPTS}

    right = client.http.post(f"/p/{token}/unlock", headers=FORM, body=f"secret={LINK_CODE}")
    assert right.status_code == 423
    assert 14 * 60 < int(right.headers["Retry-After"]) <= 15 * 60
    assert "Too many attempts" in right.body.decode()

    clock.advance(minutes=15)
    unlocked = client.http.post(f"/p/{token}/unlock", headers=FORM, body=f"secret={LINK_CODE}")
    assert unlocked.status_code == 303
    page = client.http.get(f"/p/{token}", headers={"Cookie": cookie_of(unlocked), "Accept-Language": "en"})
    assert shows_pictures(page.body.decode())


def test_a_right_code_read_before_the_lock_neither_opens_nor_lifts_it(moto_deps: Deps, clock: FakeClock) -> None:
    share, token = ready_share(moto_deps, link_code=LINK_CODE)
    stale = landing.open_link(token, moto_deps)  # read before any attempt was counted
    for n in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(Forbidden):
            landing.unlock(stale, landing.Lock.LINK_CODE, f"{n:04d}", "client", moto_deps)
    with pytest.raises(LinkLocked):
        landing.unlock(stale, landing.Lock.LINK_CODE, LINK_CODE, "client", moto_deps)
    assert moto_deps.shares.get(share.share_id).attempts.locked(clock.now())


def test_an_administrator_lifts_the_lock_and_the_right_code_gets_in_at_once(
    client: Client, moto_deps: Deps, clock: FakeClock, whole_requests: None
) -> None:
    share, token = ready_share(moto_deps, link_code=LINK_CODE)
    statuses = parallel_wrong_guesses(client, token)
    assert statuses[423] == GUESSES - MAX_FAILED_ATTEMPTS

    assert shares.lift_lock(share.clinic_id, share.share_id, moto_deps, actor=staff_actor("admin-1")) is True
    assert moto_deps.shares.get(share.share_id).attempts == Attempts()
    unlocked = client.http.post(f"/p/{token}/unlock", headers=FORM, body=f"secret={LINK_CODE}")
    assert unlocked.status_code == 303
    lifted = [e for e in moto_deps.access_log.for_share(share.share_id) if e.kind is AccessKind.LOCK_LIFTED]
    assert [e.client for e in lifted] == [staff_actor("admin-1")]
