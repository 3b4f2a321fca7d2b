"""The spool keeps what was acknowledged, refuses what it cannot keep, and says where it stands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.spool import Batch, BatchFile, Spool, SpoolFull, SpoolLocked, received_at, safe_uid, sop_instance_uid_of

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UID = "1.2.826.0.1.3680043.8.498.1"


def make_spool(root: Path, *, max_bytes: int = 10_000, min_free: int = 0, free: int = 10**12) -> Spool:
    spool = Spool(root, max_bytes=max_bytes, min_free_bytes=min_free, disk_free=lambda _: free)
    spool.prepare()
    return spool


def arrived(spool: Spool, size: int) -> Path:
    """A dataset as pynetdicom leaves it in ``incoming/``."""
    path = spool.incoming / f"tmp{size}-{len(list(spool.incoming.iterdir()))}.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + b"x" * (size - 132))
    return path


def test_an_accepted_dataset_moves_whole_into_pending_named_by_time_and_uid(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    incoming = arrived(spool, 1000)
    kept = spool.accept(incoming, UID, NOW)
    assert not incoming.exists()
    assert kept.parent == spool.pending_dir
    assert kept.read_bytes()[128:132] == b"DICM"
    assert spool.pending() == [kept.name]
    assert sop_instance_uid_of(kept.name) == UID
    assert received_at(kept.name) == NOW


def test_over_its_size_the_spool_refuses_and_keeps_nothing_of_the_refused(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, max_bytes=2500)
    spool.accept(arrived(spool, 1000), UID, NOW)
    spool.accept(arrived(spool, 1000), UID + "2", NOW)
    refused = arrived(spool, 1000)
    with pytest.raises(SpoolFull, match="over its configured size"):
        spool.accept(refused, UID + "3", NOW)
    assert not refused.exists()
    assert len(spool.pending()) == 2


def test_the_spools_size_follows_files_as_they_leave_and_come_back(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, max_bytes=2500)
    first = spool.accept(arrived(spool, 1000), UID, NOW)
    second = spool.accept(arrived(spool, 1000), UID + "2", NOW)
    with pytest.raises(SpoolFull):
        spool.accept(arrived(spool, 1000), UID + "3", NOW)
    spool.remove(first.name)  # stored by the service: room for one more
    third = spool.accept(arrived(spool, 1000), UID + "3", NOW)
    spool.fail(second.name, {"reason": "The file is not DICOM"})  # failed/ is not the spool's size
    spool.accept(arrived(spool, 1000), UID + "4", NOW)
    assert spool.retry_failed() == 1  # back in pending/, over the size: nothing more is taken
    with pytest.raises(SpoolFull):
        spool.accept(arrived(spool, 100), UID + "5", NOW)
    spool.remove(third.name)
    assert spool.pending_bytes() == 2000
    spool.accept(arrived(spool, 500), UID + "5", NOW)


def test_files_taken_out_by_hand_are_counted_again_before_anything_is_refused(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, max_bytes=2500)
    first = spool.accept(arrived(spool, 1000), UID, NOW)
    spool.accept(arrived(spool, 1000), UID + "2", NOW)
    first.unlink()  # an operator moved it away
    spool.accept(arrived(spool, 1000), UID + "3", NOW)
    assert len(spool.pending()) == 2


def test_an_instance_costs_no_scan_of_the_pending_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands wait in pending/ while the service is down: each new instance must not stat them all."""
    spool = make_spool(tmp_path, max_bytes=10**9)
    scans = []
    counting = spool.pending_bytes

    def scan() -> int:
        scans.append(1)
        return counting()

    monkeypatch.setattr(spool, "pending_bytes", scan)
    for index in range(30):
        spool.accept(arrived(spool, 200), f"{UID}.{index}", NOW)
    assert len(scans) == 1  # once, at the first instance


def test_instances_arriving_while_the_sender_removes_others_keep_the_count_true(tmp_path: Path) -> None:
    import secrets
    import threading

    spool = make_spool(tmp_path, max_bytes=10**9)
    kept = [spool.accept(arrived(spool, 300), f"{UID}.{i}", NOW).name for i in range(40)]
    start = threading.Barrier(2)

    def receive() -> None:
        start.wait()
        for index in range(40):
            path = spool.incoming / f"r{secrets.token_hex(6)}.dcm"
            path.write_bytes(b"y" * 700)
            spool.accept(path, f"{UID}.9{index}", NOW)

    def send() -> None:
        start.wait()
        for name in kept:
            spool.remove(name)

    threads = [threading.Thread(target=receive), threading.Thread(target=send)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert spool.pending_bytes() == 40 * 700
    spool.max_bytes = 40 * 700 + 200  # room for 200 bytes more: a count that fell behind would take more
    spool.accept(arrived(spool, 200), UID + ".fits", NOW)
    with pytest.raises(SpoolFull):
        spool.accept(arrived(spool, 133), UID + ".over", NOW)


def test_a_nearly_full_disk_refuses_even_a_small_spool(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, min_free=1024**3, free=1024**3 - 1)
    refused = arrived(spool, 500)
    with pytest.raises(SpoolFull, match="disk is nearly full"):
        spool.accept(refused, UID, NOW)
    assert spool.pending() == []
    assert list(spool.incoming.iterdir()) == []


def test_start_clears_half_received_datasets_and_temporary_files(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    arrived(spool, 300)
    kept = spool.accept(arrived(spool, 300), UID, NOW)
    (spool.batches_dir / ".up_1.json.ab12.tmp").write_text("{")
    assert spool.prepare() == 1
    assert list(spool.incoming.iterdir()) == []
    assert list(spool.batches_dir.iterdir()) == []
    assert spool.pending() == [kept.name]


def test_status_counts_pending_failed_and_the_oldest_age(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    assert spool.status(NOW).oldest_pending_age_s is None
    first = spool.accept(arrived(spool, 400), UID, NOW)
    spool.accept(arrived(spool, 600), UID + "2", NOW + timedelta(minutes=5))
    third = spool.accept(arrived(spool, 200), UID + "3", NOW + timedelta(minutes=6))
    spool.fail(third.name, {"reason": "not DICOM"})
    status = spool.status(NOW + timedelta(hours=1))
    assert status.as_dict() == {
        "pending": 2,
        "pending_bytes": 1000,
        "failed": 1,
        "uploads_in_flight": 0,
        "oldest_pending_age_s": 3600.0,
    }
    assert first.name in spool.pending()


def test_a_failed_file_keeps_its_reason_beside_it_and_can_be_retried_under_a_new_name(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    kept = spool.accept(arrived(spool, 400), UID, NOW)
    spool.fail(kept.name, {"reason": "The file is not DICOM", "upload_id": "up_1"})
    assert spool.pending() == []
    assert spool.failed() == [kept.name]
    beside = (spool.failed_dir / kept.name).with_suffix(".json")
    assert json.loads(beside.read_text())["reason"] == "The file is not DICOM"
    assert spool.failure(kept.name)["upload_id"] == "up_1"

    assert spool.retry_failed() == 1
    assert spool.failed() == []
    assert list(spool.failed_dir.iterdir()) == []
    [again] = spool.pending()
    assert again != kept.name  # the upload that failed it must not take it for its own
    assert sop_instance_uid_of(again) == UID
    assert received_at(again) == NOW


def test_uploads_are_recorded_before_sending_and_their_journal_survives_a_torn_line(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    batch = Batch("up_abc", NOW, (BatchFile(0, "a.dcm", "https://s3/x", {"key": "k0"}), BatchFile(1, "b.dcm", "u", {})))
    spool.add_batch(batch)
    assert spool.batches() == [batch]
    assert spool.in_batches() == {"a.dcm", "b.dcm"}
    spool.mark_posted("up_abc", 1, NOW)
    with (spool.batches_dir / "up_abc.journal").open("a") as journal:
        journal.write("posted 0 2026-11")  # the process died mid-line
    assert spool.posted("up_abc") == {1: NOW}
    spool.close_batch("up_abc")
    assert spool.batches() == []
    assert list(spool.batches_dir.iterdir()) == []


def test_an_upload_id_that_could_name_another_file_is_refused(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    with pytest.raises(ValueError, match="upload id"):
        spool.add_batch(Batch("../../etc/x", NOW, ()))


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "1.2.3/../4", "1.2." + "3" * 70, "", "1.2.abc"])
def test_a_peers_uid_never_becomes_a_path(hostile: str) -> None:
    assert safe_uid(hostile) == "invalid-uid"
    assert safe_uid("1.2.840.10008.5.1.4.1.1.7\x00") == "1.2.840.10008.5.1.4.1.1.7"


def test_one_gateway_per_spool(tmp_path: Path) -> None:
    first, second = make_spool(tmp_path), make_spool(tmp_path)
    first.lock()
    try:
        with pytest.raises(SpoolLocked):
            second.lock()
    finally:
        first.unlock()
    second.lock()
    second.unlock()
