"""The patient's side of a share: open the link, unlock it, get the files.

A link that does not exist and one that was deleted look the same (404): the page never tells which.
An expired one says so (410) and sends the patient to the clinic. Files are reached only through
pre-signed S3 URLs minted for this view, valid a few minutes.

What locks a page: the clinic's Patient Link Code (kept by the link it was sent with, dropped from every
link when the clinic removes its code), else something in the share that could not be anonymized. In
the second case the patient asks for a one-time code sent to the share's contacts, and may then choose
a password of their own for later visits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from chalicelib.domain.contacts import ContactKind
from chalicelib.domain.errors import DeliveryFailed, Forbidden, InvalidInput, NotFound
from chalicelib.domain.links import hash_secret, looks_like_token, new_one_time_code, secret_matches, token_hash
from chalicelib.domain.shares import AccessEvent, AccessKind, LinkDeleted, Share, SharedFile
from chalicelib.services.deps import Deps
from chalicelib.services.ports import Email
from chalicelib.services.shares import update

#: Pre-signed URLs of a page view live this long: long enough to watch a cine, short if a URL leaks.
FILE_URL_SECONDS = 600
MIN_PASSWORD_LENGTH = 8


class WrongSecret(Forbidden):
    """The code or password does not match (the attempt is counted)."""


class Lock(StrEnum):
    """What the page asks for before it shows anything."""

    NONE = "none"
    LINK_CODE = "link_code"
    """The clinic's Patient Link Code."""
    PASSWORD = "password"  # noqa: S105 - the name of a lock, not a password
    """The patient's own password, or a one-time code sent to the share's contacts."""


@dataclass(frozen=True)
class Opened:
    """A share as its link opens it."""

    share: Share
    clinic_name: str
    lock: Lock

    @property
    def lock_version(self) -> str:
        """Changes when the secret does, so an unlocked browser must unlock again."""
        secret = {Lock.LINK_CODE: self.share.link_code_hash, Lock.PASSWORD: self.share.password_hash}.get(self.lock)
        return hashlib.sha256(f"{self.lock}:{secret or ''}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FileLink:
    """One file of the page: its short-lived URL to show it, and its index for the download route."""

    file: SharedFile
    view_url: str
    index: int


def open_link(token: str, deps: Deps) -> Opened:
    """The share behind a link, if it may be used now (NotFound, or LinkExpired)."""
    if not looks_like_token(token):
        raise NotFound("No such link")
    share = deps.shares.by_token_hash(token_hash(token))
    try:
        share.ensure_open(deps.clock.now())
    except LinkDeleted as err:
        raise NotFound("No such link") from err
    clinic = deps.clinics.get(share.clinic_id)
    if share.link_code_hash is not None and clinic.link_code_hash is not None:
        lock = Lock.LINK_CODE
    elif share.needs_password:
        lock = Lock.PASSWORD
    else:
        lock = Lock.NONE
    return Opened(share, clinic.name, lock)


def view(opened: Opened, client: str, deps: Deps) -> list[FileLink]:
    """Record the opening and mint the page's picture URLs (signed locally: no AWS call)."""
    _record(opened.share, AccessKind.OPENED, client, deps)
    bucket = deps.buckets.share
    return [
        FileLink(file, deps.objects.presigned_get(bucket, file.key, expires_s=FILE_URL_SECONDS), index)
        for index, file in enumerate(opened.share.files)
    ]


def download(opened: Opened, index: int, client: str, deps: Deps) -> str:
    """Record a download and return the file's pre-signed URL, as an attachment with its own name."""
    if not 0 <= index < len(opened.share.files):
        raise NotFound("No such file")
    file = opened.share.files[index]
    _record(opened.share, AccessKind.DOWNLOADED, client, deps, detail=file.name)
    return deps.objects.presigned_get(
        deps.buckets.share, file.key, expires_s=FILE_URL_SECONDS, filename=file.name.split("/")[-1], inline=False
    )


def unlock(opened: Opened, secret: str, client: str, deps: Deps) -> Opened:
    """Check a link code, password or one-time code; five wrong ones lock the page for 15 minutes."""
    now = deps.clock.now()
    share = opened.share
    share.ensure_not_locked(now)
    candidates = {
        Lock.LINK_CODE: [share.link_code_hash],
        Lock.PASSWORD: [share.password_hash, share.code_hash if share.code_usable(now) else None],
    }.get(opened.lock, [])
    if secret and any(h is not None and secret_matches(secret.strip(), h) for h in candidates):
        share = update(share.share_id, lambda current: current.attempt_succeeded(), deps)
        _record(share, AccessKind.UNLOCKED, client, deps)
        return replace(opened, share=share)
    # Counted on the share as stored: wrong guesses sent side by side each count.
    share = update(share.share_id, lambda current: current.attempt_failed(now), deps)
    _record(share, AccessKind.UNLOCK_FAILED, client, deps)
    share.ensure_not_locked(now)
    raise WrongSecret("That code or password is not right")


def request_code(opened: Opened, client: str, deps: Deps) -> int:
    """Send a one-time code to every contact of the share; returns how many were reached."""
    if opened.lock is not Lock.PASSWORD:
        raise InvalidInput("This link does not use one-time codes")
    now = deps.clock.now()
    code = new_one_time_code()
    code_hash = hash_secret(code)
    share = update(opened.share.share_id, lambda current: current.with_code(code_hash, now), deps)
    _record(share, AccessKind.CODE_SENT, client, deps)
    from chalicelib.templating import render

    words = {"clinic_name": opened.clinic_name, "code": code}
    reached = 0
    for delivery in share.deliveries:
        contact = delivery.contact
        try:
            if contact.kind is ContactKind.EMAIL:
                subject = "Din engångskod" if share.language == "sv" else "Your one-time code"
                text = render("share_code_email.txt", share.language, **words)
                deps.mailer.send(Email(contact.address, opened.clinic_name, subject, text, f"<pre>{code}</pre>"))
            elif not deps.sms.is_opted_out(contact.address):
                deps.sms.send(contact.address, render("share_code_sms.txt", share.language, **words).strip())
            else:
                continue
        except DeliveryFailed:
            continue
        reached += 1
    return reached


def choose_password(opened: Opened, password: str, deps: Deps) -> Opened:
    """Set the patient's own password (the page must be unlocked already)."""
    if opened.lock is not Lock.PASSWORD:
        raise InvalidInput("This link does not use a password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must be at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = hash_secret(password)
    share = update(
        opened.share.share_id,
        lambda current: replace(current, password_hash=password_hash, code_hash=None, code_expires_at=None),
        deps,
    )
    return replace(opened, share=share)


def _record(share: Share, kind: AccessKind, client: str, deps: Deps, detail: str | None = None) -> None:
    deps.access_log.record(AccessEvent(share.share_id, deps.clock.now(), kind, client, detail), share.expires_at)
