"""A clinic's shares across its studies: the console's Shares section and ``GET /shares``.

The list reads the clinic's shares newest first from the repository's clinic index (never a scan) and keeps
those in the asked state (live, expired, deleted: ``Share.state``, at the service's own time). Filtering can
leave a read short, so the list reads on until its page is full or the index ends, at most ``MAX_READS``
times: a page may then come back short, with a cursor to go on from, but never skips or repeats a share.

A share's page adds its audit: who sent, resent and deleted it, who lifted a lock, and its visitors' opens
and downloads, each named as a person can read it (a staff member by e-mail, an API key by its id, the
patient by a shortened hash of their address, never the address).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import NotFound
from chalicelib.domain.shares import (
    AccessEvent,
    AccessKind,
    ActorKind,
    LinkState,
    Share,
    ShareCursor,
    actor_of,
    ensure_same_clinic,
)
from chalicelib.domain.studies import Study
from chalicelib.services.deps import Deps
from chalicelib.services.shares import HistoryEntry, history_entry

DEFAULT_PAGE = 25
MAX_PAGE = 100
#: How many reads of the index one filtered page may take before it answers with what it found so far.
MAX_READS = 8
#: How much of a visitor's client hash the audit shows: enough to tell visitors apart, not to look one up.
VISITOR_HASH_SHOWN = 8


@dataclass(frozen=True)
class ShareList:
    """One page of the clinic's shares with how their links were used; ``next`` continues it (None: the end)."""

    entries: tuple[HistoryEntry, ...]
    next: ShareCursor | None


def clinic_shares(
    clinic_id: str,
    deps: Deps,
    *,
    state: LinkState | None = None,
    limit: int = DEFAULT_PAGE,
    after: ShareCursor | None = None,
) -> ShareList:
    """The clinic's shares newest first, ``limit`` at most, only those in ``state`` when it is given."""
    now = deps.clock.now()
    found: list[Share] = []
    cursor = after
    for _ in range(MAX_READS):
        # One more than the page, so that an unfiltered page knows in one read whether another follows.
        page = deps.shares.for_clinic(clinic_id, limit=limit + 1, after=cursor)
        for share in page.shares:
            if state is not None and share.state(now) is not state:
                continue
            if len(found) == limit:
                return _listed(found, ShareCursor.after(found[-1]), deps)
            found.append(share)
        if page.next is None:
            return _listed(found, None, deps)
        cursor = page.next
    return _listed(found, cursor, deps)  # every share up to the cursor was read: the next page goes on from there


def _listed(shares: list[Share], after: ShareCursor | None, deps: Deps) -> ShareList:
    entries = tuple(history_entry(s, deps.access_log.for_share(s.share_id)) for s in shares)
    return ShareList(entries, after)


def studies_of(clinic_id: str, shares: list[Share], deps: Deps) -> dict[str, Study]:
    """The summaries of the studies the shares are of (one read a study), so a clinician recognises each share.
    A study no longer in the index is left out."""
    studies: dict[str, Study] = {}
    for uid in dict.fromkeys(s.study_instance_uid for s in shares):
        try:
            studies[uid] = deps.studies.get_study(clinic_id, uid)
        except NotFound:
            continue
    return studies


@dataclass(frozen=True)
class AuditEntry:
    """One thing done with a link, and by whom, as the share's page shows it."""

    at: datetime
    kind: AccessKind
    actor: ActorKind
    who: str | None
    """The staff member's e-mail address (None: no longer the clinic's), the API key's id, or the start of the
    visitor's client hash."""
    detail: str | None


@dataclass(frozen=True)
class ShareDetail:
    """A share, how its link was used, its study's summary (None when it is gone) and its audit, oldest first."""

    entry: HistoryEntry
    study: Study | None
    audit: tuple[AuditEntry, ...]


def share_of(clinic_id: str, share_id: str, deps: Deps) -> tuple[Share, Study | None]:
    """One of the clinic's shares and its study's summary (None when it is gone); NotFound for another clinic's."""
    share = ensure_same_clinic(deps.shares.get(share_id), clinic_id)
    return share, studies_of(clinic_id, [share], deps).get(share.study_instance_uid)


def share_detail(clinic_id: str, share_id: str, deps: Deps) -> ShareDetail:
    """One of the clinic's shares with everything its page shows; NotFound for another clinic's."""
    share, study = share_of(clinic_id, share_id, deps)
    events = deps.access_log.for_share(share.share_id)
    emails: dict[str, str | None] = {}
    audit = tuple(_audit_entry(event, clinic_id, emails, deps) for event in events)
    return ShareDetail(history_entry(share, events), study, audit)


def _audit_entry(event: AccessEvent, clinic_id: str, emails: dict[str, str | None], deps: Deps) -> AuditEntry:
    actor, actor_id = actor_of(event.client)
    if actor is ActorKind.STAFF:
        if actor_id not in emails:
            emails[actor_id] = _member_email(clinic_id, actor_id, deps)
        who = emails[actor_id]
    elif actor is ActorKind.KEY:
        who = actor_id
    else:
        who = actor_id[:VISITOR_HASH_SHOWN]
    return AuditEntry(event.at, event.kind, actor, who, event.detail)


def _member_email(clinic_id: str, staff_id: str, deps: Deps) -> str | None:
    try:
        member = deps.staff.get(staff_id)
    except NotFound:
        return None
    return member.email if member.clinic_id == clinic_id else None
