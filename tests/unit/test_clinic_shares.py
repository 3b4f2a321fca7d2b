"""A clinic's shares across its studies, filtered and paged (on fakes), and an administrator lifting a lock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import links
from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.deliveries import Delivery
from chalicelib.domain.errors import NotFound
from chalicelib.domain.shares import (
    MAX_FAILED_ATTEMPTS,
    AccessEvent,
    AccessKind,
    Attempts,
    LinkState,
    Share,
    ShareCursor,
    ShareStatus,
    staff_actor,
)
from chalicelib.services import clinic_shares, shares
from chalicelib.services.deps import Deps
from chalicelib.services.ports import SharePage
from tests import patient_data
from tests.fakes import FakeClock

CLINIC = "cl_00000000000000a1"
ACTOR = staff_actor("u-1")


def made(deps: Deps, n: int, state: LinkState, clinic_id: str = CLINIC) -> Share:
    """The n-th share of the clinic (a minute apart), live, expired or deleted now."""
    now = deps.clock.now()
    created = now - timedelta(days=100) + timedelta(minutes=n)
    share = Share(
        share_id=f"sh_{n:020d}",
        clinic_id=clinic_id,
        study_instance_uid="1.2.3",
        sop_instance_uids=None,
        deliveries=(Delivery(1, Contact(ContactKind.EMAIL, patient_data.EMAILS[0])),),
        language="sv",
        token_hash=links.token_hash(links.new_token()),
        token_nonce=links.new_nonce(),
        created_at=created,
        expires_at=created + timedelta(days=50 if state is LinkState.EXPIRED else 150),
        status=ShareStatus.READY,
        deleted_at=now if state is LinkState.DELETED else None,
    )
    deps.shares.add(share)
    return share


def every_page(deps: Deps, state: LinkState | None, limit: int) -> list[list[str]]:
    pages, after = [], None
    while True:
        listed = clinic_shares.clinic_shares(CLINIC, deps, state=state, limit=limit, after=after)
        pages.append([e.share.share_id for e in listed.entries])
        if listed.next is None:
            return pages
        after = listed.next


def test_filtered_pages_skip_and_repeat_nothing(deps: Deps) -> None:
    states = [LinkState.LIVE, LinkState.EXPIRED, LinkState.DELETED, LinkState.EXPIRED, LinkState.LIVE] * 4
    for n, state in enumerate(states):
        made(deps, n, state)
    made(deps, 99, LinkState.LIVE, clinic_id="cl_00000000000000b2")
    for state in (None, *LinkState):
        wanted = [f"sh_{n:020d}" for n in reversed(range(len(states))) if state in (None, states[n])]
        pages = every_page(deps, state, limit=3)
        assert [s for p in pages for s in p] == wanted, state
        assert all(len(p) == 3 for p in pages[:-1])


def test_a_filter_that_matches_little_reads_a_bounded_number_of_times_and_goes_on_from_there(deps: Deps) -> None:
    for n in range(30):
        made(deps, n, LinkState.DELETED if n in (0, 1) else LinkState.LIVE)
    reads: list[int] = []
    read = deps.shares.for_clinic

    def counted(clinic_id: str, *, limit: int, after: ShareCursor | None = None) -> SharePage:
        reads.append(limit)
        return read(clinic_id, limit=limit, after=after)

    deps.shares.for_clinic = counted  # type: ignore[method-assign]
    first = clinic_shares.clinic_shares(CLINIC, deps, state=LinkState.DELETED, limit=2)
    assert first.entries == ()  # 28 newer live ones: more than 8 reads of 3 hold
    assert len(reads) == clinic_shares.MAX_READS
    assert first.next is not None
    second = clinic_shares.clinic_shares(CLINIC, deps, state=LinkState.DELETED, limit=2, after=first.next)
    assert [e.share.share_id for e in second.entries] == [f"sh_{1:020d}", f"sh_{0:020d}"]
    assert second.next is None


def test_a_page_counts_each_shares_opens_and_downloads(deps: Deps) -> None:
    share = made(deps, 1, LinkState.LIVE)
    for kind in (AccessKind.OPENED, AccessKind.DOWNLOADED, AccessKind.DOWNLOADED, AccessKind.UNLOCK_FAILED):
        deps.access_log.record(AccessEvent(share.share_id, deps.clock.now(), kind, "c" * 16), share.expires_at)
    (entry,) = clinic_shares.clinic_shares(CLINIC, deps).entries
    assert (entry.opens, entry.downloads, entry.last_opened_at) == (1, 2, deps.clock.now())


def test_lifting_a_lock_is_recorded_once_and_only_for_the_clinics_own_share(deps: Deps, clock: FakeClock) -> None:
    share = made(deps, 1, LinkState.LIVE)
    for _ in range(MAX_FAILED_ATTEMPTS):
        deps.shares.take_attempt(share.share_id, clock.now())
    with pytest.raises(NotFound):
        shares.lift_lock("cl_00000000000000b2", share.share_id, deps, actor=ACTOR)
    assert deps.shares.get(share.share_id).attempts.locked(clock.now())
    assert shares.lift_lock(CLINIC, share.share_id, deps, actor=ACTOR) is True
    assert shares.lift_lock(CLINIC, share.share_id, deps, actor=ACTOR) is False  # nothing left to lift
    (event,) = deps.access_log.for_share(share.share_id)
    assert (event.kind, event.client) == (AccessKind.LOCK_LIFTED, ACTOR)
    assert deps.shares.get(share.share_id).attempts == Attempts()
