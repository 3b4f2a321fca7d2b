"""The sender: uploads the spool through the service's pre-signed upload route, and lets a file go only
when the service says it is stored.

One upload (``POST /studies/uploads {"files": n}``) takes up to ``batch_files`` pending files. Its
manifest (upload id, file names, pre-signed POSTs) is in the spool before the first byte goes, and each
file's arrival at S3 is journaled before the next is sent, so a restart resumes the same upload: what
reached S3 is not sent again, and what had not goes to the same object key of the same upload. Then the
upload's status decides each file's fate:

* ``stored``  — the file is deleted from the spool;
* ``failed``  — the file moves to ``failed/`` with the service's reason beside it, never retried by itself;
* ``pending`` — asked again shortly; still not indexed ``confirm_within`` after it was posted, it moves
  to ``failed/`` too (an operator can ``--retry-failed`` it), so no file waits forever.

While the service or the network is down, every call backs off exponentially (``Backoff``) and nothing
leaves the spool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.api import FileState, PresignedPost, Refused, ServiceApi, Unavailable
from gateway.backoff import Backoff
from gateway.logs import JsonLog
from gateway.spool import Batch, BatchFile, Spool, sop_instance_uid_of

#: How often an upload's status is asked while its files are being indexed.
POLL_S = 0.5
#: How often the spool is looked at when there is nothing to do.
IDLE_S = 0.5
#: S3 takes a pre-signed POST for an hour; files not sent by then go in a new upload.
POST_VALID_FOR = timedelta(minutes=50)


class Sender:
    """Drives the spool's uploads one step at a time (``step``); ``run`` loops until told to stop."""

    def __init__(
        self,
        spool: Spool,
        api: ServiceApi,
        log: JsonLog,
        clock: Callable[[], datetime],
        backoff: Backoff,
        *,
        batch_files: int = 50,
        batch_bytes: int = 512 * 1024**2,
        confirm_within: timedelta = timedelta(hours=24),
    ) -> None:
        self.spool = spool
        self.api = api
        self.log = log
        self.clock = clock
        self.backoff = backoff
        self.batch_files = batch_files
        self.batch_bytes = batch_bytes
        self.confirm_within = confirm_within
        self._resumed: set[str] = set()

    def run(self, stop: threading.Event) -> None:
        """Upload until ``stop`` is set."""
        while not stop.is_set():
            stop.wait(self.step())

    def step(self) -> float:
        """Settle what the service has decided, send what is waiting; returns the seconds to wait next."""
        try:
            waiting = False
            for batch in self.spool.batches():
                waiting |= self._drive(batch)
            if self._start_batch():
                waiting = True
        except Unavailable as err:
            delay = self.backoff.next_delay()
            self.log.write(
                "service_unavailable", error=str(err), retry_in_s=round(delay, 2), failures=self.backoff.failures
            )
            return delay
        except OSError as err:
            # The spool's disk failed us (full, say): nothing is lost by waiting, and the SCP goes on
            # answering Out of Resources meanwhile.
            delay = self.backoff.next_delay()
            self.log.write("spool_error", error=type(err).__name__, errno=err.errno, retry_in_s=round(delay, 2))
            return delay
        self.backoff.reset()
        return POLL_S if waiting else IDLE_S

    # ---------------------------------------------------------------------------------------------- batches

    def _start_batch(self) -> bool:
        taken = self.spool.in_batches()
        chosen: list[str] = []
        size = 0
        for name in self.spool.pending():
            if name in taken:
                continue
            try:
                file_size = self.spool.pending_path(name).stat().st_size
            except FileNotFoundError:
                continue
            if chosen and (len(chosen) >= self.batch_files or size + file_size > self.batch_bytes):
                break
            chosen.append(name)
            size += file_size
        if not chosen:
            return False
        requested = self.api.request_upload(len(chosen))
        batch = Batch(
            upload_id=requested.upload_id,
            created_at=self.clock(),
            files=tuple(
                BatchFile(index, name, post.url, post.fields)
                for index, (name, post) in enumerate(zip(chosen, requested.posts, strict=True))
            ),
        )
        self.spool.add_batch(batch)
        self._resumed.add(batch.upload_id)  # ours from the start: nothing to look up before sending
        self._drive(batch)
        return True

    def _drive(self, batch: Batch) -> bool:
        """Move one upload on; returns True while some of its files still wait for the service."""
        live = [f for f in batch.files if self.spool.is_pending(f.name)]
        if not live:
            self.spool.close_batch(batch.upload_id)
            return False
        posted = self.spool.posted(batch.upload_id)
        # An upload found in the spool at start: some files may have reached S3 (and the index) just
        # before the stop, without their journal line. Their status says so; those are not sent again.
        states: dict[int, FileState] = {}
        if batch.upload_id not in self._resumed:
            states = {s.index: s for s in self.api.upload_status(batch.upload_id)}
            self._resumed.add(batch.upload_id)
            live = [f for f in live if not self._settle(batch, f, states.get(f.index), posted.get(f.index))]

        now = self.clock()
        for file in live:
            if file.index in posted:
                continue
            if now - batch.created_at > POST_VALID_FOR:
                continue  # its pre-signed POST has (nearly) expired: it goes again in a new upload
            try:
                self.api.post_file(_post(file), self.spool.pending_path(file.name))
            except Refused as refused:
                self._fail(batch, file, "s3", refused.reason)
                continue
            except FileNotFoundError:
                continue
            posted[file.index] = self.clock()
            self.spool.mark_posted(batch.upload_id, file.index, posted[file.index])

        unsent = [f for f in live if f.index not in posted and self.spool.is_pending(f.name)]
        if unsent and now - batch.created_at > POST_VALID_FOR:
            self._release(batch, unsent)
        waiting = [f for f in live if f.index in posted and self.spool.is_pending(f.name)]
        if not waiting:
            if not any(self.spool.is_pending(f.name) for f in batch.files):
                self.spool.close_batch(batch.upload_id)
            return False
        try:
            states = {s.index: s for s in self.api.upload_status(batch.upload_id)}
        except Unavailable:
            if not self._expire(batch, waiting, posted):
                raise
            return False
        for file in waiting:
            self._settle(batch, file, states.get(file.index), posted.get(file.index))
        if not any(self.spool.is_pending(f.name) for f in batch.files):
            self.spool.close_batch(batch.upload_id)
        return any(self.spool.is_pending(f.name) for f in waiting)

    def _settle(self, batch: Batch, file: BatchFile, state: FileState | None, posted_at: datetime | None) -> bool:
        """Act on the service's word about one file; returns True when the file has left the spool."""
        if state is not None and state.status == "stored":
            size = self._size(file.name)
            self.spool.remove(file.name)
            self._log_upload(batch, file, "stored", size)
            return True
        if state is not None and state.status == "failed":
            self._fail(batch, file, "service", state.reason or "refused without a reason")
            return True
        if posted_at is not None and self.clock() - posted_at > self.confirm_within:
            hours = self.confirm_within.total_seconds() / 3600
            self._fail(batch, file, "gateway", f"the service had not indexed the file {hours:g} h after its upload")
            return True
        return False

    def _expire(self, batch: Batch, waiting: list[BatchFile], posted: dict[int, datetime]) -> bool:
        """The status cannot be read: fail the files that have waited past ``confirm_within``, if any."""
        expired = False
        for file in waiting:
            expired |= self._settle(batch, file, None, posted.get(file.index))
        return expired

    def _release(self, batch: Batch, files: list[BatchFile]) -> None:
        """Give files whose pre-signed POST expired back to the spool, for a new upload (the old upload's
        record keeps them as never sent: nothing reached the index through it)."""
        kept = tuple(f for f in batch.files if f not in files)
        self.spool.add_batch(Batch(batch.upload_id, batch.created_at, kept))
        for file in files:
            self.log.write(
                "upload",
                upload_id=batch.upload_id,
                index=file.index,
                sop_instance_uid=sop_instance_uid_of(file.name),
                outcome="expired_before_sent",
            )

    def _fail(self, batch: Batch, file: BatchFile, source: str, reason: str) -> None:
        size = self._size(file.name)
        self.spool.fail(
            file.name,
            {
                "reason": reason,
                "source": source,
                "upload_id": batch.upload_id,
                "index": file.index,
                "sop_instance_uid": sop_instance_uid_of(file.name),
                "failed_at": self.clock().isoformat(),
            },
        )
        self._log_upload(batch, file, "failed", size, source=source)

    def _log_upload(self, batch: Batch, file: BatchFile, outcome: str, size: int | None, **extra: str) -> None:
        self.log.write(
            "upload",
            upload_id=batch.upload_id,
            index=file.index,
            sop_instance_uid=sop_instance_uid_of(file.name),
            bytes=size,
            outcome=outcome,
            **extra,
        )

    def _size(self, name: str) -> int | None:
        try:
            return self.spool.pending_path(name).stat().st_size
        except FileNotFoundError:
            return None


def _post(file: BatchFile) -> PresignedPost:
    return PresignedPost(file.url, file.fields)
