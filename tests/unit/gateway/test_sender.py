"""The sender lets a file go only when the service says it is stored, backs off while the service is down,
parks refused files in ``failed/`` with the reason, and resumes an upload after a crash without sending
anything twice."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.backoff import Backoff
from gateway.logs import JsonLog
from gateway.sender import POST_VALID_FOR, Sender
from gateway.spool import Spool
from tests.fakes import FakeClock
from tests.unit.gateway.fakes import Crash, FakeServiceApi

UID = "1.2.826.0.1.3680043.8.498."


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    spool = Spool(tmp_path / "spool", max_bytes=10**9, min_free_bytes=0, disk_free=lambda _: 10**12)
    spool.prepare()
    return spool


def receive(spool: Spool, clock: FakeClock, count: int, body: bytes = b"DICM instance") -> list[bytes]:
    bodies = []
    for i in range(count):
        incoming = spool.incoming / f"in{i}.dcm"
        data = body + f" {i}".encode()
        incoming.write_bytes(data)
        spool.accept(incoming, f"{UID}{i + 1}", clock.now())
        clock.advance(milliseconds=5)
        bodies.append(data)
    return bodies


def sender(spool: Spool, api: FakeServiceApi, clock: FakeClock, log: io.StringIO | None = None, **kw: object) -> Sender:
    return Sender(spool, api, JsonLog(log or io.StringIO()), clock.now, Backoff(rng=random.Random(7)), **kw)  # type: ignore[arg-type]


def settle(s: Sender, steps: int = 20) -> None:
    for _ in range(steps):
        s.step()


def test_files_leave_the_spool_only_once_the_upload_says_stored(spool: Spool, clock: FakeClock) -> None:
    api = FakeServiceApi(indexing="manual")
    bodies = receive(spool, clock, 3)
    s = sender(spool, api, clock)
    s.step()
    assert api.requests == [3]
    assert len(api.posts) == 3
    assert len(spool.pending()) == 3, "posted is not stored: the index has not said so yet"
    settle(s, 3)
    assert len(spool.pending()) == 3
    api.index_all()
    s.step()
    assert spool.pending() == []
    assert sorted(api.stored_bodies()) == sorted(bodies)
    assert list(spool.batches_dir.iterdir()) == []


def test_while_the_service_is_down_the_waits_grow_and_nothing_is_lost(spool: Spool, clock: FakeClock) -> None:
    api = FakeServiceApi()
    api.down = True
    bodies = receive(spool, clock, 4)
    log = io.StringIO()
    s = sender(spool, api, clock, log)
    delays = [s.step() for _ in range(8)]
    assert all(2 ** (n - 1) <= delay <= 2**n for n, delay in enumerate(delays)), delays  # doubling, half jitter
    assert len(set(delays)) == len(delays)
    assert len(spool.pending()) == 4
    assert api.uploads == {}
    assert log.getvalue().count('"service_unavailable"') == 8

    api.down = False
    assert s.step() <= 1
    settle(s, 3)
    assert spool.pending() == []
    assert sorted(api.stored_bodies()) == sorted(bodies)
    assert s.backoff.failures == 0


def test_a_refused_file_goes_to_failed_with_the_services_reason_and_is_not_sent_again(
    spool: Spool, clock: FakeClock
) -> None:
    receive(spool, clock, 2)
    receive(spool, clock, 1, body=b"corrupt bytes")
    api = FakeServiceApi()
    log = io.StringIO()
    s = sender(spool, api, clock, log)
    settle(s, 10)
    assert spool.pending() == []
    [failed] = spool.failed()
    record = spool.failure(failed)
    assert record["reason"] == "The file is not DICOM (no DICM prefix)"
    assert record["source"] == "service"
    assert record["sop_instance_uid"] == f"{UID}1"
    assert len(api.posts) == 3, "refused once, never retried by itself"
    assert log.getvalue().count('"outcome": "failed"') == 1
    assert log.getvalue().count('"outcome": "stored"') == 2


def test_a_restart_after_a_crash_mid_upload_sends_each_file_exactly_once(spool: Spool, clock: FakeClock) -> None:
    bodies = receive(spool, clock, 6)
    api = FakeServiceApi(indexing="manual")
    api.crash_after_posts = 2  # killed after the third file reached S3, before its journal line
    with pytest.raises(Crash):
        sender(spool, api, clock).step()
    assert len(api.posts) == 3
    assert len(spool.posted(next(iter(api.uploads)))) == 2

    api.crash_after_posts = None
    api.index_all()  # the third file was indexed while the gateway was down
    restarted = sender(spool, api, clock)
    settle(restarted, 5)
    api.index_all()
    settle(restarted, 2)
    assert spool.pending() == []
    assert api.requests == [6], "the restart resumed the recorded upload, it asked for no new one"
    assert sorted(api.posts) == sorted({*api.posts}), "no file reached S3 twice"
    assert sorted(api.stored_bodies()) == sorted(bodies)


def test_a_crash_before_the_upload_is_recorded_leaves_the_files_for_a_new_upload(
    spool: Spool, clock: FakeClock
) -> None:
    bodies = receive(spool, clock, 2)
    api = FakeServiceApi()

    class CrashingSpool(Spool):
        def add_batch(self, batch: object) -> None:
            raise Crash

    crashing = CrashingSpool(spool.root, max_bytes=spool.max_bytes, min_free_bytes=0)
    with pytest.raises(Crash):
        sender(crashing, api, clock).step()
    settle(sender(spool, api, clock), 3)
    assert spool.pending() == []
    assert api.posts
    assert all(upload == list(api.uploads)[1] for upload, _ in api.posts), "only the recorded upload"
    assert sorted(api.stored_bodies()) == sorted(bodies)


def test_s3_refusing_a_file_fails_it_with_s3s_answer(spool: Spool, clock: FakeClock) -> None:
    receive(spool, clock, 1)
    api = FakeServiceApi()
    api.s3_refuses = True
    settle(sender(spool, api, clock), 3)
    [failed] = spool.failed()
    assert spool.failure(failed)["source"] == "s3"
    assert "AccessDenied" in spool.failure(failed)["reason"]
    assert spool.batches() == []


def test_a_file_the_service_never_indexes_fails_after_the_confirmation_window(spool: Spool, clock: FakeClock) -> None:
    receive(spool, clock, 1)
    api = FakeServiceApi(indexing="manual")
    s = sender(spool, api, clock, confirm_within=timedelta(hours=2))
    settle(s, 3)
    clock.advance(hours=1)
    s.step()
    assert len(spool.pending()) == 1
    clock.advance(hours=1, seconds=1)
    s.step()
    [failed] = spool.failed()
    assert "had not indexed the file 2 h after its upload" in spool.failure(failed)["reason"]
    assert spool.batches() == []


def test_files_not_sent_before_their_presigned_post_expires_go_in_a_new_upload(spool: Spool, clock: FakeClock) -> None:
    bodies = receive(spool, clock, 3)
    api = FakeServiceApi()
    api.crash_after_posts = 0  # one file reached S3, then the gateway stopped for a long time
    with pytest.raises(Crash):
        sender(spool, api, clock).step()
    clock.advance(seconds=POST_VALID_FOR.total_seconds() + 60)
    api.crash_after_posts = None
    s = sender(spool, api, clock)
    settle(s, 5)
    assert spool.pending() == []
    assert api.requests == [3, 2]
    assert sorted(api.stored_bodies()) == sorted(bodies)
    assert len(api.posts) == 3


def test_uploads_hold_at_most_the_batch_size(spool: Spool, clock: FakeClock) -> None:
    receive(spool, clock, 7)
    api = FakeServiceApi()
    settle(sender(spool, api, clock, batch_files=3), 6)
    assert api.requests == [3, 3, 1]
    assert spool.pending() == []


def test_upload_log_lines_carry_ids_only(spool: Spool, clock: FakeClock) -> None:
    import json

    receive(spool, clock, 1)
    log = io.StringIO()
    settle(sender(spool, FakeServiceApi(), clock, log), 2)
    [line] = [json.loads(x) for x in log.getvalue().splitlines()]
    assert set(line) == {"time", "event", "upload_id", "index", "sop_instance_uid", "bytes", "outcome"}
    assert line["sop_instance_uid"] == f"{UID}1"


def test_a_full_disk_under_the_sender_makes_it_wait_not_die(spool: Spool, clock: FakeClock) -> None:
    import errno

    bodies = receive(spool, clock, 2)

    class FullDisk(Spool):
        full = True

        def mark_posted(self, upload_id: str, index: int, now: object) -> None:
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device")
            super().mark_posted(upload_id, index, now)  # type: ignore[arg-type]

    disk = FullDisk(spool.root, max_bytes=spool.max_bytes, min_free_bytes=0)
    api = FakeServiceApi()
    log = io.StringIO()
    s = sender(disk, api, clock, log)
    assert s.step() >= 0.5
    assert '"spool_error"' in log.getvalue()
    assert len(disk.pending()) == 2
    disk.full = False
    settle(s, 5)
    assert disk.pending() == []
    assert sorted(api.stored_bodies()) == sorted(bodies)
