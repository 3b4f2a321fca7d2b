"""The spool: every instance the gateway acknowledged, on disk, until the service says it is stored.

    <spool>/
      incoming/  pynetdicom writes each dataset here as it arrives (not acknowledged; cleared at start)
      pending/   acknowledged instances awaiting upload: ``<received ms>-<token>-<SOP Instance UID>.dcm``
      batches/   ``<upload id>.json``: which pending files an upload holds and where each goes, written
                 before any byte of the upload is sent; ``<upload id>.journal``: the files already posted
      failed/    instances the service refused, each with ``<name>.json`` beside it saying why
      .lock      held by the running gateway: one process per spool

Every change that must survive a crash is made durable before it counts: a file is written under a
temporary name, fsynced, renamed into place, and its directory fsynced. An instance enters ``pending/``
by one rename, so the sender never sees half a file, and a crash never leaves a file acknowledged but
missing. Time comes in as an argument (``now``); the spool reads no clock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: A UID as PS3.5 allows it: digits and dots, at most 64 characters.
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")
_NAME = re.compile(r"(\d{13})-([0-9a-f]{8})-([0-9.]{1,64}|invalid-uid)\.dcm")


class SpoolFull(Exception):
    """The spool cannot keep another instance: over its size, or the disk is nearly full."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SpoolLocked(Exception):
    """Another gateway process runs on this spool."""


@dataclass(frozen=True)
class SpoolStatus:
    """What ``--status`` prints."""

    pending: int
    pending_bytes: int
    failed: int
    uploads_in_flight: int
    oldest_pending_age_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "pending_bytes": self.pending_bytes,
            "failed": self.failed,
            "uploads_in_flight": self.uploads_in_flight,
            "oldest_pending_age_s": self.oldest_pending_age_s,
        }


@dataclass(frozen=True)
class BatchFile:
    """One spool file of an upload: its index in the upload and the pre-signed POST it goes to."""

    index: int
    name: str
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Batch:
    """An upload (one ``POST /studies/uploads``) and the spool files it holds."""

    upload_id: str
    created_at: datetime
    files: tuple[BatchFile, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "created_at": self.created_at.isoformat(),
            "files": [{"index": f.index, "name": f.name, "url": f.url, "fields": f.fields} for f in self.files],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Batch:
        return cls(
            upload_id=str(data["upload_id"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            files=tuple(
                BatchFile(
                    int(f["index"]), str(f["name"]), str(f["url"]), {str(k): str(v) for k, v in f["fields"].items()}
                )
                for f in data["files"]
            ),
        )


def fsync_dir(path: Path) -> None:
    """Make the directory entries of ``path`` (a rename, a new file, a deletion) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temporary file, fsync, rename, fsync of the directory."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def safe_uid(uid: str) -> str:
    """A UID fit for a file name (a peer may send anything in AffectedSOPInstanceUID)."""
    uid = uid.strip().rstrip("\x00")
    return uid if len(uid) <= 64 and _UID.fullmatch(uid) else "invalid-uid"


def sop_instance_uid_of(name: str) -> str:
    """The SOP Instance UID a spool file name carries (``invalid-uid`` when the peer sent none usable)."""
    match = _NAME.fullmatch(name)
    return match.group(3) if match else "invalid-uid"


def received_at(name: str) -> datetime | None:
    """When the instance of a spool file name was acknowledged."""
    match = _NAME.fullmatch(name)
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC) if match else None


class Spool:
    """The spool directory; thread-safe for the SCP's association threads and the sender."""

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int,
        min_free_bytes: int,
        disk_free: Callable[[Path], int] | None = None,
    ) -> None:
        self.root = root
        self.incoming = root / "incoming"
        self.pending_dir = root / "pending"
        self.batches_dir = root / "batches"
        self.failed_dir = root / "failed"
        self.max_bytes = max_bytes
        self.min_free_bytes = min_free_bytes
        self._disk_free = disk_free or (lambda path: shutil.disk_usage(path).free)
        #: Guards ``pending/``'s running byte count: the SCP's association threads add to it, the sender
        #: takes from it.
        self._lock = threading.Lock()
        self._pending_total: int | None = None
        self._lock_fd: int | None = None

    # ------------------------------------------------------------------------------------------ set-up

    def prepare(self) -> int:
        """Create the directories and clear what a stopped process left half-done.

        Returns how many partly received datasets were removed from ``incoming/``: none of them was
        acknowledged, so the modality still has them and sends them again.
        """
        for directory in (self.root, self.incoming, self.pending_dir, self.batches_dir, self.failed_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        removed = self.clear_incoming()
        for directory in (self.pending_dir, self.batches_dir, self.failed_dir):
            for temporary in directory.glob(".*.tmp"):
                temporary.unlink(missing_ok=True)
        return removed

    def clear_incoming(self) -> int:
        """Remove partly received datasets (only when nothing is being received); returns how many."""
        removed = 0
        for leftover in self.incoming.iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        return removed

    def lock(self) -> None:
        """Hold the spool for this process (released when it exits, however it exits)."""
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            os.close(fd)
            raise SpoolLocked(f"another gateway is running on {self.root}") from err
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # ------------------------------------------------------------------------------------------ intake

    def accept(self, received: Path, sop_instance_uid: str, now: datetime) -> Path:
        """Keep a fully received dataset (a Part 10 file in ``incoming/``); only then may it be acknowledged.

        Raises ``SpoolFull`` (the file is then removed: nothing is taken that cannot be kept) and
        ``OSError`` when the disk fails us.
        """
        name = f"{int(now.timestamp() * 1000):013d}-{secrets.token_hex(4)}-{safe_uid(sop_instance_uid)}.dcm"
        target = self.pending_dir / name
        with self._lock:
            try:
                size = received.stat().st_size
                if self._counted() + size > self.max_bytes and self._recount() + size > self.max_bytes:
                    raise SpoolFull("the spool is over its configured size")
                if self._disk_free(self.root) < self.min_free_bytes:
                    raise SpoolFull("the disk is nearly full")
                _fsync_file(received)
                try:
                    os.rename(received, target)
                except OSError as err:
                    if err.errno != errno.EXDEV:
                        raise
                    _copy_durably(received, target)
                    received.unlink(missing_ok=True)
                fsync_dir(self.pending_dir)
                self._pending_total = self._counted() + size
            except BaseException:
                received.unlink(missing_ok=True)
                raise
        return target

    def _counted(self) -> int:
        """The bytes in ``pending/`` as counted at start and kept up to date since (under ``_lock``): a
        directory scan on each instance would cost a stat per pending file, thousands while the service is
        down."""
        if self._pending_total is None:
            self._pending_total = self.pending_bytes()
        return self._pending_total

    def _recount(self) -> int:
        """Count again before refusing (under ``_lock``): an operator may have moved files out by hand."""
        self._pending_total = self.pending_bytes()
        return self._pending_total

    def _take_out(self, path: Path, move: Callable[[], None]) -> None:
        """``move`` takes ``path`` out of ``pending/``; the running count follows once it has."""
        with self._lock:
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                size = 0
            move()
            if self._pending_total is not None:
                self._pending_total = max(0, self._pending_total - size)

    # ------------------------------------------------------------------------------------------ reading

    def pending(self) -> list[str]:
        """Names of the pending files, oldest first."""
        return sorted(e.name for e in os.scandir(self.pending_dir) if e.name.endswith(".dcm"))

    def pending_path(self, name: str) -> Path:
        return self.pending_dir / name

    def is_pending(self, name: str) -> bool:
        return (self.pending_dir / name).exists()

    def pending_bytes(self) -> int:
        total = 0
        for entry in os.scandir(self.pending_dir):
            with contextlib.suppress(FileNotFoundError):
                total += entry.stat().st_size
        return total

    def failed(self) -> list[str]:
        return sorted(p.name for p in self.failed_dir.glob("*.dcm"))

    def failure(self, name: str) -> dict[str, Any]:
        """The reason recorded beside a failed file."""
        loaded: dict[str, Any] = json.loads((self.failed_dir / name).with_suffix(".json").read_text())
        return loaded

    def status(self, now: datetime) -> SpoolStatus:
        """Counts for ``--status``."""
        names = self.pending()
        times = [t for t in (received_at(n) for n in names) if t is not None]
        return SpoolStatus(
            pending=len(names),
            pending_bytes=self.pending_bytes(),
            failed=len(self.failed()),
            uploads_in_flight=len(list(self.batches_dir.glob("*.json"))),
            oldest_pending_age_s=round((now - min(times)).total_seconds(), 1) if times else None,
        )

    # ------------------------------------------------------------------------------------------ outcomes

    def remove(self, name: str) -> None:
        """The service has the instance (its upload says ``stored``): the spool lets it go."""
        path = self.pending_dir / name
        self._take_out(path, lambda: path.unlink(missing_ok=True))
        fsync_dir(self.pending_dir)

    def fail(self, name: str, record: dict[str, Any]) -> None:
        """Move a pending file to ``failed/`` with ``record`` (the reason) beside it; the reason first, so
        that a crash in between leaves the file pending (and failed again), never failed without a reason."""
        durable_write((self.failed_dir / name).with_suffix(".json"), json.dumps(record, indent=2).encode() + b"\n")
        source = self.pending_dir / name
        if source.exists():
            self._take_out(source, lambda: os.rename(source, self.failed_dir / name))
            fsync_dir(self.failed_dir)
            fsync_dir(self.pending_dir)

    def retry_failed(self) -> int:
        """Put every failed file back in ``pending/`` (after the cause is fixed); returns how many."""
        moved = 0
        for name in self.failed():
            # A new name: the upload that failed it may still be open and must not see it again.
            match = _NAME.fullmatch(name)
            fresh = f"{match.group(1)}-{secrets.token_hex(4)}-{match.group(3)}.dcm" if match else name
            with self._lock:
                os.rename(self.failed_dir / name, self.pending_dir / fresh)
                if self._pending_total is not None:
                    self._pending_total += (self.pending_dir / fresh).stat().st_size
            fsync_dir(self.pending_dir)
            (self.failed_dir / name).with_suffix(".json").unlink(missing_ok=True)
            moved += 1
        if moved:
            fsync_dir(self.failed_dir)
        return moved

    # ------------------------------------------------------------------------------------------ uploads

    def add_batch(self, batch: Batch) -> None:
        """Record an upload before any of its bytes are sent: a restart resumes it instead of sending again."""
        durable_write(self.batches_dir / f"{_id_name(batch.upload_id)}.json", json.dumps(batch.to_json()).encode())

    def batches(self) -> list[Batch]:
        """The uploads not yet settled, oldest first."""
        loaded = [Batch.from_json(json.loads(p.read_text())) for p in self.batches_dir.glob("*.json")]
        return sorted(loaded, key=lambda b: (b.created_at, b.upload_id))

    def mark_posted(self, upload_id: str, index: int, now: datetime) -> None:
        """Journal that file ``index`` of the upload reached S3 (fsynced before the next file is sent)."""
        path = self.batches_dir / f"{_id_name(upload_id)}.journal"
        with path.open("a") as journal:
            journal.write(f"posted {index} {now.isoformat()}\n")
            journal.flush()
            os.fsync(journal.fileno())

    def posted(self, upload_id: str) -> dict[int, datetime]:
        """The files of the upload already posted, with when (a torn last line, from a crash, is skipped)."""
        path = self.batches_dir / f"{_id_name(upload_id)}.journal"
        found: dict[int, datetime] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                parts = line.split(" ")
                with contextlib.suppress(ValueError, IndexError):
                    if parts[0] == "posted" and len(parts) == 3:
                        found[int(parts[1])] = datetime.fromisoformat(parts[2])
        return found

    def close_batch(self, upload_id: str) -> None:
        """Every file of the upload is settled: forget it."""
        (self.batches_dir / f"{_id_name(upload_id)}.journal").unlink(missing_ok=True)
        (self.batches_dir / f"{_id_name(upload_id)}.json").unlink(missing_ok=True)
        fsync_dir(self.batches_dir)

    def in_batches(self) -> set[str]:
        """Names of the pending files some open upload holds."""
        return {f.name for b in self.batches() for f in b.files}


def _id_name(upload_id: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", upload_id):
        raise ValueError("an upload id the service would never hand out")
    return upload_id


def _copy_durably(source: Path, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.tmp")
    with source.open("rb") as reader, temporary.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)
        writer.flush()
        os.fsync(writer.fileno())
    os.rename(temporary, target)


@contextlib.contextmanager
def incoming_dir(spool: Spool) -> Iterator[None]:
    """Have pynetdicom write arriving datasets into the spool's ``incoming/`` (tempfile's default folder,
    for this process, while the SCP runs): same file system, so acknowledging is a rename, not a copy."""
    import tempfile

    previous = tempfile.tempdir
    tempfile.tempdir = str(spool.incoming)
    try:
        yield
    finally:
        tempfile.tempdir = previous
