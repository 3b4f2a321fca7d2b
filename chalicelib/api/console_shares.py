"""The console's Shares section: the clinic's shares newest first (live, expired, deleted), one share's page with
its audit, and what staff do with a link: send it again, delete it (after a confirmation that needs no script),
and, for administrators, lift the lock a patient's wrong attempts set.

Each change is a form post with the session's CSRF token (``staffed``), answered 303 to the share's page,
which says what was done (``?done=``). A refusal the clinician can act on (an expired or deleted link, a link
that cannot be re-made, the day's sending quota, a share still being prepared) is the share's page again, with
the reason in the page's language and the refusal's status; any other refusal is the console's own page.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api import models
from chalicelib.api.errors import retry_headers, status_of
from chalicelib.api.requests import query, query_params
from chalicelib.api.shares import DELIVERY_ADVICE
from chalicelib.api.staffed import Staffed, staffed
from chalicelib.api.web import FORM, redirect, secure_page
from chalicelib.domain.accounts import SendingQuotaExceeded
from chalicelib.domain.contacts import masked
from chalicelib.domain.errors import DomainError
from chalicelib.domain.links import LinkRetired
from chalicelib.domain.shares import LinkDeleted, LinkExpired, ShareCursor, StillPreparing
from chalicelib.services import clinic_shares, shares
from chalicelib.wiring import deps

bp = Blueprint(__name__)

#: What the share's page confirms after a change (``?done=``).
DONE = frozenset({"resent", "deleted", "lock_lifted", "not_locked"})
#: Refusals of a resend the share's page explains, by the name its template words them with.
PROBLEMS: tuple[tuple[type[DomainError], str], ...] = (
    (LinkExpired, "expired"),
    (LinkDeleted, "deleted"),
    (LinkRetired, "retired"),
    (SendingQuotaExceeded, "quota"),
    (StillPreparing, "preparing"),
)


def _words() -> dict[str, Any]:
    """What every Shares template uses to show a share: masked contacts, names and dates as people read them."""
    return {
        "masked": masked,
        "advice": DELIVERY_ADVICE,
        "now": deps().clock.now(),
    }


@bp.route("/console/shares", methods=["GET"])
@secure_page
@staffed("shares")
def share_list(ctx: Staffed) -> Response:
    """The clinic's shares, newest first, a page at a time; ``status`` keeps the live, expired or deleted ones."""
    asked = query(models.ShareListQuery)
    after = ShareCursor.parse(asked.cursor) if asked.cursor is not None else None
    listed = clinic_shares.clinic_shares(ctx.clinic_id, deps(), state=asked.status, limit=asked.limit, after=after)
    studies = clinic_shares.studies_of(ctx.clinic_id, [e.share for e in listed.entries], deps())
    return ctx.render(
        "console_shares.html",
        entries=listed.entries,
        studies=studies,
        state=asked.status.value if asked.status is not None else None,
        next_cursor=listed.next.text() if listed.next is not None else None,
        **_words(),
    )


@bp.route("/console/shares/{share_id}", methods=["GET"])
@secure_page
@staffed("shares")
def share_page(ctx: Staffed, share_id: str) -> Response:
    """One share in full: its study, contacts, dates, use, lock, audit, and what can be done with it."""
    done = query_params().get("done")
    return _share_page(ctx, share_id, done=done if done in DONE else None)


def _share_page(
    ctx: Staffed, share_id: str, status: int = 200, *, done: str | None = None, problem: str | None = None
) -> Response:
    detail = clinic_shares.share_detail(ctx.clinic_id, share_id, deps())
    return ctx.render("console_share.html", status, detail=detail, done=done, problem=problem, **_words())


@bp.route("/console/shares/{share_id}/resend", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("shares")
def resend(ctx: Staffed, share_id: str) -> Response:
    """Send the same link to the same contacts again; its expiry does not move."""
    try:
        shares.resend(ctx.clinic_id, share_id, deps(), actor=ctx.actor)
    except DomainError as err:
        problem = next((name for kind, name in PROBLEMS if isinstance(err, kind)), None)
        if problem is None:
            raise
        response = _share_page(ctx, share_id, status_of(err), problem=problem)
        response.headers.update(retry_headers(err))
        return response
    ctx.record("share_resent", share_id=share_id)
    return redirect(f"/console/shares/{share_id}?done=resent")


@bp.route("/console/shares/{share_id}/delete", methods=["GET"])
@secure_page
@staffed("shares")
def confirm_delete(ctx: Staffed, share_id: str) -> Response:
    """Asks before a link is deleted (a form and a link back: no script needed)."""
    share, study = clinic_shares.share_of(ctx.clinic_id, share_id, deps())
    if share.deleted_at is not None:
        return redirect(f"/console/shares/{share_id}")
    return ctx.render("console_share_delete.html", share=share, study=study, **_words())


@bp.route("/console/shares/{share_id}/delete", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("shares")
def delete(ctx: Staffed, share_id: str) -> Response:
    """Delete a link at once: the patient's link stops working and its files are deleted."""
    shares.delete(ctx.clinic_id, share_id, deps(), actor=ctx.actor)
    ctx.record("share_deleted", share_id=share_id)
    return redirect(f"/console/shares/{share_id}?done=deleted")


@bp.route("/console/shares/{share_id}/unlock", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("shares", admin=True)
def lift_lock(ctx: Staffed, share_id: str) -> Response:
    """An administrator lifts the lock a patient's wrong attempts set, before it ends by itself."""
    lifted = shares.lift_lock(ctx.clinic_id, share_id, deps(), actor=ctx.actor)
    if lifted:
        ctx.record("share_lock_lifted", share_id=share_id)
    return redirect(f"/console/shares/{share_id}?done={'lock_lifted' if lifted else 'not_locked'}")
