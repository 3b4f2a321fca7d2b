"""Use cases of sending a study to a patient: send, resend, delete, history; and the share worker's job.

The API answers at once (202) with a queued share; the share worker prepares the files
(``share_files``) and sends the link, one delivery per contact. A failed e-mail never stops the SMS,
a failed delivery is retried (the delivery job fails so SQS tries again, and finally dead-letters),
and the share itself is never lost: it stays, with each contact's status, in the history.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from chalicelib.domain.accounts import Clinic
from chalicelib.domain.contacts import Contact, parse_contact, parse_contacts
from chalicelib.domain.deliveries import Delivery, MessageOwner, OwnerKind, deliveries_for, sms_only
from chalicelib.domain.descriptors import clean_descriptor
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.links import LINK_RETIRED, LinkRetired, new_nonce, token_hash
from chalicelib.domain.shares import (
    HISTORY_AFTER_EXPIRY,
    AccessEvent,
    AccessKind,
    Share,
    ShareStatus,
    ensure_same_clinic,
    language,
    lifetime,
    new_share_id,
    share_token,
)
from chalicelib.domain.studies import Instance, display_date
from chalicelib.domain.verdicts import InstanceVerdict, needs_password
from chalicelib.services import notifier
from chalicelib.services.accounts import reserve_messages
from chalicelib.services.deps import Deps
from chalicelib.services.keys import sent_token
from chalicelib.services.versioned import update


class DeliveriesPending(RuntimeError):
    """Some contacts are not reached yet and a retry may help: the delivery job fails so SQS retries it."""


SMS_ONLY_WARNING = "Only a phone number was given: an e-mail address as well makes delivery more certain"


@dataclass(frozen=True)
class SendRequest:
    """What the clinic asked for (validated here)."""

    contacts: str | None = None
    sop_instance_uids: tuple[str, ...] | None = None
    language: str | None = None
    lifetime_days: int | None = None


@dataclass(frozen=True)
class Announced:
    """What the anonymizer does with one instance of a share, known before the share is prepared."""

    sop_instance_uid: str
    verdict: InstanceVerdict


@dataclass(frozen=True)
class Sent:
    """A share as queued: new, or an earlier live one sent again; and what it will do with each instance."""

    share: Share
    resent: bool
    warnings: tuple[str, ...]
    verdicts: tuple[Announced, ...] = ()


@dataclass(frozen=True)
class Review:
    """What a send would do, before it is done: to whom, in which language, for how long, what goes out
    anonymized and what behind the patient's password, and what to warn of."""

    contacts: tuple[Contact, ...]
    language: str
    lifetime_days: int
    verdicts: tuple[Announced, ...]
    warnings: tuple[str, ...]

    @property
    def needs_password(self) -> bool | None:
        """Whether the link will ask for the patient's password (None: not known until prepared)."""
        return needs_password(a.verdict for a in self.verdicts)


def review(clinic_id: str, study_instance_uid: str, request: SendRequest, deps: Deps) -> Review:
    """Check a send as ``send_study`` would (contacts required) and say what it would do; nothing is sent."""
    clinic = deps.clinics.get(clinic_id)
    deps.studies.get_study(clinic_id, study_instance_uid)
    contacts = parse_contacts(request.contacts or "", clinic.country)
    chosen = _chosen_instances(clinic_id, study_instance_uid, request.sop_instance_uids, deps)
    return Review(
        contacts=contacts,
        language=language(request.language, clinic.language),
        lifetime_days=lifetime(request.lifetime_days, clinic.link_lifetime_days).days,
        verdicts=_announced(deps.studies.instances(clinic_id, study_instance_uid), chosen),
        warnings=_warnings_for(deliveries_for(contacts)),
    )


def password_needed(share: Share, verdicts: tuple[Announced, ...] | None) -> bool | None:
    """Whether the share's link asks for the patient's password: the prepared share's answer once it is
    ready, before that what ``verdicts`` announce; None when that is not known (never False then)."""
    if share.status is ShareStatus.READY:
        return share.needs_password
    return needs_password(a.verdict for a in verdicts) if verdicts is not None else None


def verdicts(share: Share, deps: Deps) -> tuple[Announced, ...]:
    """What the anonymizer does with each instance of a share, in the study's order."""
    return _announced(deps.studies.instances(share.clinic_id, share.study_instance_uid), share.sop_instance_uids)


def _announced(instances: list[Instance], chosen: tuple[str, ...] | None) -> tuple[Announced, ...]:
    wanted = None if chosen is None else set(chosen)
    return tuple(
        Announced(i.sop_instance_uid, i.verdict) for i in instances if wanted is None or i.sop_instance_uid in wanted
    )


def send_study(clinic_id: str, study_instance_uid: str, request: SendRequest, deps: Deps, *, actor: str) -> Sent:
    """Queue a new share of a study (or resend its latest live one when no contacts are given).

    ``actor`` (``staff_actor`` or ``key_actor``) is recorded in the share's audit.
    """
    clinic = deps.clinics.get(clinic_id)
    study = deps.studies.get_study(clinic_id, study_instance_uid)
    now = deps.clock.now()
    if not (request.contacts or "").strip():
        live = _latest_live_share(clinic_id, study_instance_uid, now, deps)
        if live is not None:
            again = resend(clinic_id, live.share_id, deps, actor=actor)
            return Sent(again, resent=True, warnings=_warnings(live), verdicts=verdicts(again, deps))
        contacts = _contacts_from_study(study.patient_telephone_numbers, study.patient_emails, clinic)
    else:
        contacts = parse_contacts(request.contacts or "", clinic.country)
    chosen = _chosen_instances(clinic_id, study_instance_uid, request.sop_instance_uids, deps)
    reserve_messages(clinic, len(contacts), deps)
    nonce = new_nonce()
    share_id = new_share_id()
    share = Share(
        share_id=share_id,
        clinic_id=clinic_id,
        study_instance_uid=study_instance_uid,
        sop_instance_uids=chosen,
        deliveries=deliveries_for(contacts),
        language=language(request.language, clinic.language),
        token_hash="",
        token_nonce=nonce,
        created_at=now,
        expires_at=now + lifetime(request.lifetime_days, clinic.link_lifetime_days),
        study_date=display_date(study.study_date) if study.study_date else "",
        study_description=clean_descriptor(study.study_description),
        link_code_hash=clinic.link_code_hash,
    )
    share = replace(share, token_hash=token_hash(share_token(deps.keys.key_ring().current, share)))
    deps.shares.add(share)
    _audit(share, AccessKind.SENT, actor, deps)
    deps.jobs.send("share", {"share_id": share.share_id})
    return Sent(share, resent=False, warnings=_warnings(share), verdicts=verdicts(share, deps))


def resend(clinic_id: str, share_id: str, deps: Deps, *, actor: str) -> Share:
    """Send the same link to the same contacts again; its expiry does not move.

    Raises LinkRetired (nothing is queued) when the link was made under a key retired since.
    """
    now = deps.clock.now()
    share = ensure_same_clinic(deps.shares.get(share_id), clinic_id).resent(now)  # refused before it counts
    sent_share_token(share, deps)  # LinkRetired here, before anything is counted, changed or queued
    reserve_messages(deps.clinics.get(clinic_id), sum(1 for d in share.deliveries if d.due), deps)
    again = update(deps.shares, share_id, lambda share: ensure_same_clinic(share, clinic_id).resent(now))
    _audit(again, AccessKind.RESENT, actor, deps)
    deps.jobs.send("delivery", {"share_id": again.share_id})
    return again


def sent_share_token(share: Share, deps: Deps) -> str:
    """The share's link token as it was sent; LinkRetired when its key has been retired."""
    return sent_token(share.token_hash, lambda key: share_token(key, share), deps)


def delete(clinic_id: str, share_id: str, deps: Deps, *, actor: str) -> Share:
    """Delete a link at once (e.g. sent to a wrong address): it stops working and its files go."""
    now = deps.clock.now()
    files: list[str] = []

    def delete_link(share: Share) -> Share:
        files[:] = [file.key for file in ensure_same_clinic(share, clinic_id).files]
        return share.deleted(now)

    deleted = update(deps.shares, share_id, delete_link)
    _audit(deleted, AccessKind.DELETED, actor, deps)
    delete_files(files, deps)
    return deleted


def _audit(share: Share, kind: AccessKind, actor: str, deps: Deps) -> None:
    """Record what the clinic did with a link, and who did it, beside its visitors' uses."""
    deps.access_log.record(AccessEvent(share.share_id, deps.clock.now(), kind, actor), share.expires_at)


def delete_files(keys: list[str], deps: Deps) -> None:
    """Delete a share's files from the share bucket (missing ones are fine: retries are harmless)."""
    for key in keys:
        deps.objects.delete(deps.buckets.share, key)


@dataclass(frozen=True)
class HistoryEntry:
    """A share as the history shows it, with how its link was used."""

    share: Share
    opens: int
    last_opened_at: datetime | None
    downloads: int
    verdicts: tuple[Announced, ...] | None = None
    """Each instance's verdict, where it was looked up (a study's history); None where it was not."""


def history(clinic_id: str, study_instance_uid: str, deps: Deps) -> list[HistoryEntry]:
    """Every share of a study, newest first (the study must be the clinic's)."""
    deps.studies.get_study(clinic_id, study_instance_uid)
    instances = deps.studies.instances(clinic_id, study_instance_uid)
    return [
        history_entry(s, deps.access_log.for_share(s.share_id), _announced(instances, s.sop_instance_uids))
        for s in deps.shares.for_study(clinic_id, study_instance_uid)
    ]


def history_entry(
    share: Share, events: list[AccessEvent], verdicts: tuple[Announced, ...] | None = None
) -> HistoryEntry:
    """A share with how its link was used, counted from its events, and its instances' verdicts when known."""
    opened = [e.at for e in events if e.kind is AccessKind.OPENED]
    downloads = sum(1 for e in events if e.kind is AccessKind.DOWNLOADED)
    return HistoryEntry(share, len(opened), max(opened, default=None), downloads, verdicts)


def lift_lock(clinic_id: str, share_id: str, deps: Deps, *, actor: str) -> bool:
    """An administrator lifts the lock that wrong attempts set on a patient's link, before it ends by itself
    (the patient called the clinic). False when no lock was in force (it may have just ended).

    One conditional write clears the attempt gate (``ShareRepository.lift_lock``), never a read and a write: an
    attempt counted meanwhile is not undone by a stale copy, and the lift is recorded in the share's audit.
    """
    share = ensure_same_clinic(deps.shares.get(share_id), clinic_id)
    lifted = deps.shares.lift_lock(share.share_id, deps.clock.now())
    if lifted:
        _audit(share, AccessKind.LOCK_LIFTED, actor, deps)
    return lifted


# ------------------------------------------------------------------------------------------ the worker


def prepare_and_send(share_id: str, deps: Deps) -> Share:
    """The share worker's job: prepare the files, then send the link to every contact."""
    from chalicelib.services.share_files import Prepared, prepare_files

    share = deps.shares.get(share_id)
    now = deps.clock.now()
    if share.deleted_at is not None or share.is_expired(now):
        return share  # deleted or expired while queued: nothing to prepare, nothing to send
    if share.status is ShareStatus.READY and any(f.kind == "zip" for f in share.files):
        return deliver(share.share_id, deps)  # a retry after the work was done: only deliveries may be due
    instances = deps.studies.instances(share.clinic_id, share.study_instance_uid)
    if share.sop_instance_uids is not None:
        wanted = set(share.sop_instance_uids)
        instances = [i for i in instances if i.sop_instance_uid in wanted]

    def publish(pictures: Prepared) -> None:
        # The patient hears of the link as soon as there is something to see; the ZIP follows.
        def ready(current: Share) -> Share:
            if current.deleted_at is not None:
                return current
            return replace(
                current, files=pictures.files, needs_password=pictures.needs_password, status=ShareStatus.READY
            )

        if update(deps.shares, share_id, ready).deleted_at is not None:
            return
        try:
            deliver(share.share_id, deps)
        except DeliveriesPending:
            deps.jobs.send("delivery", {"share_id": share.share_id})  # retried there, not by redoing the files

    with tempfile.TemporaryDirectory(prefix="share-") as workdir:
        prepared = prepare_files(share, instances, deps, Path(workdir), publish)

    def with_files(current: Share) -> Share:
        return current if current.deleted_at is not None else replace(current, files=prepared.files)

    done = update(deps.shares, share_id, with_files)
    if done.deleted_at is not None:  # deleted while its files were being made: they go too
        delete_files([f.key for f in prepared.files], deps)
    return done


def deliver(share_id: str, deps: Deps) -> Share:
    """Send the link to every contact not reached yet; raises DeliveriesPending while a retry may help."""
    share = deps.shares.get(share_id)
    now = deps.clock.now()
    if share.deleted_at is not None or share.is_expired(now) or share.status is not ShareStatus.READY:
        return share
    clinic = deps.clinics.get(share.clinic_id)
    try:
        message = link_message(share, clinic, deps)
    except LinkRetired:
        from chalicelib.observability import logger

        logger.warning("share link cannot be re-made: its key was retired", extra={"share_id": share.share_id})
        deliveries = notifier.unsendable(share.deliveries, LINK_RETIRED, now)
    else:
        deliveries = notifier.send_all(share.deliveries, message, now, deps)
    outcomes = dict(zip(share.deliveries, deliveries, strict=True))

    def record(current: Share) -> Share:
        # Sending takes time: the outcomes go onto the share as it is now. A delivery still as it was read
        # takes its outcome; one changed meanwhile (a resend started it over) keeps its new state, and the
        # resend's own job sends it.
        merged = tuple(outcomes.get(d, d) for d in current.deliveries)
        sent = any(d.sent_at == now for d in merged)
        return replace(current, deliveries=merged, last_sent_at=now if sent else current.last_sent_at)

    share = update(deps.shares, share_id, record)
    if any(d.due for d in deliveries):
        raise DeliveriesPending(share.share_id)  # SQS brings the job back; what was sent is not sent twice
    return share


def link_message(share: Share, clinic: Clinic, deps: Deps) -> notifier.Message:
    """The e-mail and text that carry a share's link; LinkRetired when the link cannot be re-made."""
    words = {
        "clinic_name": clinic.name,
        "link": f"{deps.site.public_base_url}/p/{sent_share_token(share, deps)}",
        "expires_on": share.expires_at.date().isoformat(),
        "lock": lock_kind(share),
    }
    return notifier.Message(
        notifier.Notice.SHARE_LINK,
        share.language,
        clinic.name,
        words,
        MessageOwner(OwnerKind.SHARE, share.share_id),
        share.expires_at + HISTORY_AFTER_EXPIRY,
    )


def lock_kind(share: Share) -> str | None:
    """What the share's page asks for, as its messages word it (``templates/_lock_words.txt``)."""
    code, password = share.link_code_hash is not None, share.needs_password
    if code and password:
        return "both"
    return "link_code" if code else "password" if password else None


# ------------------------------------------------------------------------------------------ helpers


def _latest_live_share(clinic_id: str, study_instance_uid: str, now: datetime, deps: Deps) -> Share | None:
    for share in deps.shares.for_study(clinic_id, study_instance_uid):
        if share.deleted_at is None and not share.is_expired(now) and share.status is ShareStatus.READY:
            return share
    return None


def _contacts_from_study(phones: tuple[str, ...], emails: tuple[str, ...], clinic: Clinic) -> tuple[Contact, ...]:
    contacts: list[Contact] = []
    for position, text in enumerate((*emails, *phones), start=1):
        try:
            contact = parse_contact(text, position, clinic.country)
        except InvalidInput:
            continue  # what an imaging system typed may be a landline or a typo: use what can be reached
        if contact not in contacts:
            contacts.append(contact)
    if not contacts:
        raise InvalidInput("No contacts were given and the study holds none that can be reached; add 'contacts'")
    return tuple(contacts)


def _chosen_instances(
    clinic_id: str, study_instance_uid: str, wanted: tuple[str, ...] | None, deps: Deps
) -> tuple[str, ...] | None:
    if wanted is None:
        return None
    if not wanted:
        raise InvalidInput("'instances' must name at least one SOP Instance UID (or be left out for all)")
    known = {i.sop_instance_uid for i in deps.studies.instances(clinic_id, study_instance_uid)}
    for position, uid in enumerate(wanted, start=1):
        if uid not in known:
            raise InvalidInput(f"instance {position} is not part of this study")
    return tuple(dict.fromkeys(wanted))


def _warnings(share: Share) -> tuple[str, ...]:
    return _warnings_for(share.deliveries)


def _warnings_for(deliveries: tuple[Delivery, ...]) -> tuple[str, ...]:
    return (SMS_ONLY_WARNING,) if sms_only(deliveries) else ()
