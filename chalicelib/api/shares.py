"""The clinic's side of sending studies: send, history, the clinic's list of shares, resend, delete."""

from __future__ import annotations

from typing import Any

import msgspec
from chalice.app import Blueprint, Response

from chalicelib.api import answers, models
from chalicelib.api.auth import clinic_key
from chalicelib.api.errors import http_errors
from chalicelib.api.idempotency import once
from chalicelib.api.requests import body, current_clinic, current_key_id, query
from chalicelib.api.responses import accepted, ok
from chalicelib.domain.deliveries import Delivery, DeliveryStatus
from chalicelib.domain.shares import LinkState, Share, ShareCursor, ShareStatus, key_actor
from chalicelib.services import clinic_shares, shares
from chalicelib.services.shares import HistoryEntry
from chalicelib.wiring import deps

bp = Blueprint(__name__)


@bp.route("/studies/{study_uid}/shares", methods=["POST"], authorizer=clinic_key, content_types=["application/json"])
@http_errors
def send(study_uid: str) -> Response:
    """Send a study (or chosen instances) to a patient; answers 202 with the queued share."""
    asked = body(models.ShareRequest)
    request = shares.SendRequest(
        contacts=asked.contacts,
        sop_instance_uids=tuple(asked.instances) if asked.instances is not None else None,
        language=asked.language,
        lifetime_days=asked.lifetime_days,
    )
    clinic_id = current_clinic()

    def send_once() -> dict[str, Any]:
        sent = shares.send_study(clinic_id, study_uid, request, deps(), actor=key_actor(current_key_id()))
        answer = answers.SentShare(
            **msgspec.structs.asdict(share_view(sent.share, deps().clock.now(), sent.verdicts)),
            verdicts=[_verdict_view(a) for a in sent.verdicts],
            resent=sent.resent,
            warnings=list(sent.warnings),
        )
        return msgspec.to_builtins(answer)  # type: ignore[no-any-return]  # what the idempotency store keeps

    stored = once(clinic_id, {"study_uid": study_uid, **msgspec.structs.asdict(asked)}, send_once)
    return accepted(msgspec.convert(stored, answers.SentShare))


@bp.route("/studies/{study_uid}/shares", methods=["GET"], authorizer=clinic_key)
@http_errors
def share_history(study_uid: str) -> Response:
    """The study's share history, newest first."""
    now = deps().clock.now()
    entries = shares.history(current_clinic(), study_uid, deps())
    return ok(answers.ShareHistory(shares=[_entry_view(e, now) for e in entries]))


@bp.route("/shares", methods=["GET"], authorizer=clinic_key)
@http_errors
def clinic_share_list() -> Response:
    """The clinic's shares of every study, newest first, a page at a time (``next_cursor`` continues it)."""
    asked = query(models.ShareListQuery)
    after = ShareCursor.parse(asked.cursor) if asked.cursor is not None else None
    listed = clinic_shares.clinic_shares(current_clinic(), deps(), state=asked.status, limit=asked.limit, after=after)
    now = deps().clock.now()
    return ok(
        answers.SharePage(
            shares=[_entry_view(e, now) for e in listed.entries],
            next_cursor=listed.next.text() if listed.next is not None else None,
        )
    )


def _entry_view(entry: HistoryEntry, now: Any) -> answers.ShareEntry:
    return answers.ShareEntry(
        **msgspec.structs.asdict(share_view(entry.share, now, entry.verdicts)),
        verdicts=[_verdict_view(a) for a in entry.verdicts] if entry.verdicts is not None else msgspec.UNSET,
        opens=entry.opens,
        downloads=entry.downloads,
        last_opened_at=entry.last_opened_at.isoformat() if entry.last_opened_at else None,
    )


@bp.route("/shares/{share_id}/resend", methods=["POST"], authorizer=clinic_key)
@http_errors
def resend(share_id: str) -> Response:
    """Send the same link to the same contacts again (its expiry does not move).

    ``skipped`` names the contacts it does not reach: their address hard-bounced or complained.
    """
    share = shares.resend(current_clinic(), share_id, deps(), actor=key_actor(current_key_id()))
    skipped = [
        answers.SkippedContact(position=d.position, kind=d.contact.kind, status=d.status, bounce=d.bounce)
        for d in share.skipped
    ]
    return accepted(
        answers.ResentShare(**msgspec.structs.asdict(share_view(share, deps().clock.now())), skipped=skipped)
    )


@bp.route("/shares/{share_id}", methods=["DELETE"], authorizer=clinic_key)
@http_errors
def delete(share_id: str) -> Response:
    """Delete a link at once; it can never be used or resent, and its files are deleted."""
    share = shares.delete(current_clinic(), share_id, deps(), actor=key_actor(current_key_id()))
    return ok(share_view(share, deps().clock.now()))


def share_view(share: Share, now: Any, verdicts: tuple[shares.Announced, ...] | None = None) -> answers.ShareAnswer:
    """A share as the history shows it; contacts are the clinic's own data, shown back to it.

    ``needs_password`` is the prepared share's once it is ready; before, what ``verdicts`` announce: true,
    false, or null while some instance's verdict is not known (it never says false when it does not know).
    """
    state = share.state(now)
    return answers.ShareAnswer(
        share_id=share.share_id,
        study_instance_uid=share.study_instance_uid,
        instances=list(share.sop_instance_uids) if share.sop_instance_uids is not None else None,
        status=share.status.value if state is LinkState.LIVE else state.value,
        created_at=share.created_at.isoformat(),
        last_sent_at=share.last_sent_at.isoformat() if share.last_sent_at else None,
        expires_at=share.expires_at.isoformat(),
        deleted_at=share.deleted_at.isoformat() if share.deleted_at else None,
        language=share.language,
        needs_password=shares.password_needed(share, verdicts),
        needs_link_code=share.link_code_hash is not None,
        deliveries=[_delivery_view(d) for d in share.deliveries],
        can_resend=state is LinkState.LIVE and share.status is ShareStatus.READY,
        can_delete=share.deleted_at is None,
    )


def _verdict_view(announced: shares.Announced) -> answers.VerdictAnswer:
    verdict = announced.verdict
    return answers.VerdictAnswer(
        sop_instance_uid=announced.sop_instance_uid, verdict=verdict.verdict, reason=verdict.reason
    )


def _delivery_view(delivery: Delivery) -> answers.DeliveryAnswer:
    return answers.DeliveryAnswer(
        position=delivery.position,
        kind=delivery.contact.kind,
        address=delivery.contact.address,
        status=delivery.status,
        bounce=delivery.bounce,
        reason=delivery.reason,
        attempts=delivery.attempts,
        sent_at=delivery.sent_at.isoformat() if delivery.sent_at else None,
        updated_at=delivery.updated_at.isoformat() if delivery.updated_at else None,
        advice=DELIVERY_ADVICE.get(delivery.status),
    )


#: What the clinic should do about a contact the message did not reach, in both languages (the console's too).
DELIVERY_ADVICE = {
    DeliveryStatus.BOUNCED: {
        "sv": "Adressen tog inte emot meddelandet. Radera länken och skicka till rätt adress.",
        "en": "The address refused the message. Delete the link and send it to the right address.",
    },
    DeliveryStatus.COMPLAINED: {
        "sv": "Mottagaren markerade meddelandet som skräppost. Inget mer skickas till adressen.",
        "en": "The recipient marked the message as spam. Nothing more is sent to this address.",
    },
    DeliveryStatus.FAILED: {
        "sv": "Meddelandet kom inte fram. Kontrollera adressen, eller radera länken och skicka på nytt.",
        "en": "The message did not arrive. Check the address, or delete the link and send it anew.",
    },
    DeliveryStatus.OPTED_OUT: {
        "sv": "Numret har valt bort sms. Skicka länken med e-post i stället.",
        "en": "The number has opted out of text messages. Send the link by e-mail instead.",
    },
}
