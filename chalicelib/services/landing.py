"""The patient's side of a share: open the link, unlock it, get the files.

A link that does not exist and one that was deleted look the same (404): the page never tells which.
An expired one says so (410) and sends the patient to the clinic. Files are reached only through
pre-signed S3 URLs minted for this view, valid a few minutes.

What locks a page, in this order: the clinic's Patient Link Code (kept by the link it was sent with,
dropped from every link when the clinic removes its code); then, when something in the share could not
be anonymized, the patient's own password or a one-time code sent to the share's contacts. Every patient
of the clinic knows the clinic's code, so it alone never opens originals. A patient who got in with a
code may choose a password of their own for later visits.

Every attempt at a secret is counted on the stored share before the secret is checked
(``ShareRepository.take_attempt``), so attempts sent side by side cannot outrun the lock.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.deliveries import DeliveryStatus
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.links import hash_secret, looks_like_token, new_one_time_code, secret_matches, token_hash
from chalicelib.domain.shares import AccessEvent, AccessKind, LinkDeleted, Share, SharedFile, WrongSecret
from chalicelib.services import notifier
from chalicelib.services.accounts import reserve_messages
from chalicelib.services.deps import Deps
from chalicelib.services.versioned import update

#: Pre-signed URLs of a page view live this long: long enough to watch a cine, short if a URL leaks.
FILE_URL_SECONDS = 600
MIN_PASSWORD_LENGTH = 8


class Lock(StrEnum):
    """A secret the page asks for before it shows anything."""

    LINK_CODE = "link_code"
    """The clinic's Patient Link Code."""
    PASSWORD = "password"  # noqa: S105 - the name of a lock, not a password
    """The patient's own password, or a one-time code sent to the share's contacts."""


@dataclass(frozen=True)
class Opened:
    """A share as its link opens it."""

    share: Share
    clinic_name: str
    locks: tuple[Lock, ...]
    """The secrets the page asks for, in order (none: it opens at once)."""

    def lock_version(self, lock: Lock) -> str:
        """Changes when the lock's secret does, so an unlocked browser must unlock again."""
        secret = {Lock.LINK_CODE: self.share.link_code_hash, Lock.PASSWORD: self.share.password_hash}[lock]
        return hashlib.sha256(f"{lock}:{secret or ''}".encode()).hexdigest()[:16]

    def pending(self, passed: frozenset[str]) -> Lock | None:
        """The first lock not passed yet, given the versions of the locks a browser has passed."""
        return next((lock for lock in self.locks if self.lock_version(lock) not in passed), None)

    def passed_with(self, lock: Lock, passed: frozenset[str]) -> frozenset[str]:
        """The locks passed once ``lock`` is, keeping only those still in force."""
        current = {self.lock_version(each) for each in self.locks}
        return frozenset((passed & current) | {self.lock_version(lock)})


@dataclass(frozen=True)
class About:
    """What the images are, from the clinic's own records (``Share.study_date``, ``Share.study_description``)."""

    study_date: str
    """The study's real date, ISO 8601 ("" when the records have none)."""
    description: str
    """The study's description, Clean Descriptors applied ("" when no safe word is left)."""


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
    locks = []
    if share.link_code_hash is not None and clinic.link_code_hash is not None:
        locks.append(Lock.LINK_CODE)
    if share.needs_password:
        locks.append(Lock.PASSWORD)
    return Opened(share, clinic.name, tuple(locks))


def view(opened: Opened, client: str, deps: Deps) -> list[FileLink]:
    """Record the opening and mint the page's picture URLs (signed locally: no AWS call)."""
    _record(opened.share, AccessKind.OPENED, client, deps)
    return [FileLink(file, _view_url(file, deps), index) for index, file in enumerate(opened.share.files)]


def _view_url(file: SharedFile, deps: Deps) -> str:
    """A file's URL to show it in the browser; a report (page or PDF) opens as its own type, whatever S3 kept."""
    served = file.mime if file.kind in _OPENED_AS_ITSELF else None
    return deps.objects.presigned_get(deps.buckets.share, file.key, expires_s=FILE_URL_SECONDS, content_type=served)


#: The kinds of files the page opens in a tab of their own: a structured report's page, a report's PDF.
_OPENED_AS_ITSELF = frozenset({"report", "document"})


def about(opened: Opened) -> About:
    """What the images are: the study's real date and cleaned description, kept on the share when it was made."""
    return About(opened.share.study_date, opened.share.study_description)


def download(opened: Opened, index: int, client: str, deps: Deps) -> str:
    """Record a download and return the file's pre-signed URL, as an attachment with its own name.

    The ZIP is saved under the clinic's name and the study's date (``Kliniken-Vast-2026-11-20.zip``), so
    that a patient's downloads folder tells one share from another.
    """
    if not 0 <= index < len(opened.share.files):
        raise NotFound("No such file")
    file = opened.share.files[index]
    _record(opened.share, AccessKind.DOWNLOADED, client, deps, detail=file.name)
    name = zip_name(opened.clinic_name, opened.share.study_date) if file.kind == "zip" else file.name
    return deps.objects.presigned_get(
        deps.buckets.share, file.key, expires_s=FILE_URL_SECONDS, filename=name.split("/")[-1], inline=False
    )


def zip_name(clinic_name: str, study_date: str) -> str:
    """An ASCII file name for a share's ZIP: the clinic's name (accents dropped) and the study's date."""
    plain = unicodedata.normalize("NFKD", clinic_name).encode("ascii", "ignore").decode()
    words = "-".join(part for part in re.split(r"[^A-Za-z0-9]+", plain) if part)
    return "-".join(part for part in (words or "images", study_date) if part) + ".zip"


def unlock(opened: Opened, lock: Lock, secret: str, client: str, deps: Deps) -> Opened:
    """Check the secret of one lock; five attempts in a row lock the page for 15 minutes.

    The attempt is counted first (LinkLocked while a lock is in force: the secret is not even looked
    at), then checked against the share as stored; a right one clears the count unless a lock is in
    force. A one-time code is used up by the request it unlocks. Raises WrongSecret.
    """
    if lock not in opened.locks:
        raise InvalidInput("This link does not ask for that")
    now = deps.clock.now()
    deps.shares.take_attempt(opened.share.share_id, now)
    share = deps.shares.get(opened.share.share_id)  # the base table: the link's index may lag a new code
    try:
        share = _check(share, lock, secret.strip(), now, deps)
    except WrongSecret:
        _record(share, AccessKind.UNLOCK_FAILED, client, deps)
        raise
    deps.shares.clear_attempts(share.share_id, now)
    _record(share, AccessKind.UNLOCKED, client, deps)
    return replace(opened, share=share)


def _check(share: Share, lock: Lock, secret: str, now: datetime, deps: Deps) -> Share:
    if secret and lock is Lock.LINK_CODE:
        if share.link_code_hash is not None and secret_matches(secret, share.link_code_hash):
            return share
    elif secret and lock is Lock.PASSWORD:
        if share.password_hash is not None and secret_matches(secret, share.password_hash):
            return share
        code_hash = share.code_hash
        if code_hash is not None and share.code_usable(now) and secret_matches(secret, code_hash):
            return update(deps.shares, share.share_id, lambda current: current.code_used(code_hash, now))
    raise WrongSecret("That code or password is not right")


def request_code(opened: Opened, client: str, deps: Deps) -> int:
    """Send a one-time code to every contact of the share; returns how many were reached."""
    if Lock.PASSWORD not in opened.locks:
        raise InvalidInput("This link does not use one-time codes")
    now = deps.clock.now()
    code = new_one_time_code()
    code_hash = hash_secret(code)
    opened.share.with_code(code_hash, now)  # three an hour: refused before it counts toward the quota
    reachable = [d for d in opened.share.deliveries if not d.suppressed]
    reserve_messages(deps.clinics.get(opened.share.clinic_id), len(reachable), deps)
    share = update(deps.shares, opened.share.share_id, lambda current: current.with_code(code_hash, now))
    _record(share, AccessKind.CODE_SENT, client, deps)
    words = {"clinic_name": opened.clinic_name, "code": code}
    message = notifier.Message(notifier.Notice.SHARE_CODE, share.language, opened.clinic_name, words, None, now)
    # A code's own fate is not followed: the deliveries keep telling how the link fared.
    outcomes = [notifier.send(d.queued_again(), message, now, deps) for d in share.deliveries]
    return sum(1 for d in outcomes if d.status is DeliveryStatus.SENT)


def choose_password(opened: Opened, password: str, deps: Deps) -> Opened:
    """Set the patient's own password (the page must be unlocked already)."""
    if Lock.PASSWORD not in opened.locks:
        raise InvalidInput("This link does not use a password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must be at least {MIN_PASSWORD_LENGTH} characters")
    password_hash = hash_secret(password)
    share = update(
        deps.shares,
        opened.share.share_id,
        lambda current: replace(current, password_hash=password_hash, code_hash=None, code_expires_at=None),
    )
    return replace(opened, share=share)


def _record(share: Share, kind: AccessKind, client: str, deps: Deps, detail: str | None = None) -> None:
    deps.access_log.record(AccessEvent(share.share_id, deps.clock.now(), kind, client, detail), share.expires_at)
