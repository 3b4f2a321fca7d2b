"""The gateway's intake: a local SCU into the spool, against copying the same bytes to the same disk.

    python bench/gateway.py [--runs N]

Files (generated in a temporary folder on the spool's disk, not committed): a 150-frame 640×480 RGB
ultrasound cine (~138 MB) and a 100-instance CT series (512×512, 16 bit, ~0.5 MB each). For each, in
one run:

* copy     — the baseline: the same files copied to the same disk, each fsynced, and its folder fsynced
             (the durability the gateway gives before it answers; a copy that is not fsynced is printed
             too, for reference);
* gateway  — ``python -m gateway`` (a separate process, its uploads pointed at a closed port so that
             nothing leaves the spool; one small instance sent first, so that what is timed is a running
             gateway) receiving the files from a local SCU, until the last C-STORE response: DCMTK's
             ``storescu`` when it is installed, and pynetdicom's SCU (streaming from disk);
* for reference, ``storescu`` into DCMTK's own SCP, ``storescp``: told to discard what it receives
             (``--ignore``: how fast the client alone sends), and writing each file as it was received
             (``+B -od``, without an fsync: what a C++ SCP that stores reaches on this machine);
* the ratio copy time ÷ gateway time (goal ≥ 0.5), and the gateway's peak memory (VmHWM) while it
  received the cine (goal below 100 MB; measured in a gateway that received nothing else).

The clients, run as a modality would run them (also printed, under ``clients``):

* ``storescu -aet BENCH -aec PSHARE`` with DCMTK's defaults: whatever larger maximum the gateway
  announces (1 MiB), it sends PDUs of at most 128 KiB (fragments of 131060 bytes; ``--max-send-pdu``
  takes 4096..131072 only), and it leaves Nagle's algorithm on (DCMTK's default since 3.6.2; the
  environment variable ``TCP_NODELAY=1`` turns it off);
* pynetdicom's ``AE`` with its defaults (it sends PDUs of the gateway's announced 1 MiB), explicit VR
  little endian proposed, ``STORE_SEND_CHUNKED_DATASET`` (each file streamed from disk); for the series
  also opening an association for each file, as many ultrasound machines send;
* the references: ``storescp -pdu 131072`` (its largest PDU) fed by ``storescu``, both with
  ``TCP_NODELAY=1``: storescp writes its answers in pieces, and with Nagle's algorithm on each C-STORE
  then waits for a delayed ACK (~45 ms an instance, 4.6 s for the series). With ``--ignore`` it is the
  client at its fastest, into an SCP that keeps nothing; with ``+B -od`` it keeps each file (bit for
  bit, as the gateway does) but never fsyncs it, so it gives less than the gateway promises.

Medians of ``--runs`` runs (default 3).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AE_TITLE = "PSHARE"


def make_series(folder: Path, count: int) -> list[Path]:
    """``count`` CT slices of 512×512 16-bit pixels, one study and series."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    paths = []
    for i in range(count):
        ds = Dataset()
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.PatientName, ds.PatientID, ds.StudyDate, ds.Modality = "Bench^Patient", "BENCH-1", "20261123", "CT"
        ds.InstanceNumber, ds.ImagePositionPatient, ds.SliceThickness = i + 1, [0, 0, i], 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows = ds.Columns = 512
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = (np.add.outer(np.arange(512), np.arange(512)) + i).astype(np.uint16).tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = (
            CTImageStorage,
            ds.SOPInstanceUID,
        )
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = folder / f"ct{i:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def copy_files(files: list[Path], target: Path, *, durable: bool) -> float:
    """Seconds to copy ``files`` into ``target`` (fsyncing each and the folder when ``durable``)."""
    target.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for path in files:
        with path.open("rb") as reader, (target / path.name).open("wb") as writer:
            shutil.copyfileobj(reader, writer, 1024 * 1024)
            if durable:
                writer.flush()
                os.fsync(writer.fileno())
        if durable:
            fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
            os.fsync(fd)
            os.close(fd)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    return elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gateway(workdir: Path) -> Iterator[tuple[int, int, Path]]:
    """A gateway process: (port, pid, spool). Its uploads go to a port nobody listens on."""
    spool = workdir / "spool"
    shutil.rmtree(spool, ignore_errors=True)
    key = workdir / "key"
    key.write_text("psk_bench_bench\n")
    key.chmod(0o600)
    port = free_port()
    command = [sys.executable, "-m", "gateway", "--ae-title", AE_TITLE, "--port", str(port), "--bind", "127.0.0.1",
               "--api-url", f"http://127.0.0.1:{free_port()}", "--api-key-file", str(key), "--allow", "BENCH",
               "--spool", str(spool), "--max-backoff", "600", "--min-free-mb", "64"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        assert started["event"] == "started", started
        yield port, process.pid, spool
    finally:
        process.terminate()
        process.wait(timeout=30)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


STORESCU = "storescu -aet BENCH -aec PSHARE (DCMTK's defaults: PDUs of at most 128 KiB, Nagle's algorithm on)"
PYNETDICOM = "pynetdicom AE defaults (PDUs of the gateway's 1 MiB), STORE_SEND_CHUNKED_DATASET"
PYNETDICOM_EACH = "the same, opening an association for each file (as many ultrasound machines do)"
REFERENCE = "TCP_NODELAY=1 storescu into TCP_NODELAY=1 storescp --ignore -pdu 131072"
REFERENCE_KEEPING = "TCP_NODELAY=1 storescu into TCP_NODELAY=1 storescp +B -od <folder> -pdu 131072 (no fsync)"


def dcmtk_env(*, nodelay: bool) -> dict[str, str]:
    """The environment for a DCMTK tool: ``TCP_NODELAY=1`` turns Nagle's algorithm off (DCMTK's envvars.txt)."""
    env = {k: v for k, v in os.environ.items() if k != "TCP_NODELAY"}
    if nodelay:
        env["TCP_NODELAY"] = "1"
    return env


def send_storescu(port: int, files: list[Path], *, nodelay: bool = False) -> float:
    started = time.perf_counter()
    subprocess.run(["storescu", "-aet", "BENCH", "-aec", AE_TITLE, "127.0.0.1", str(port), *map(str, files)],
                   check=True, timeout=600, env=dcmtk_env(nodelay=nodelay))  # fmt: skip
    return time.perf_counter() - started


def send_pynetdicom(port: int, files: list[Path], *, association_per_file: bool = False) -> float:
    """pynetdicom's SCU, streaming each file from disk (``STORE_SEND_CHUNKED_DATASET``), in its own process;
    with ``association_per_file``, as a modality that opens an association for each image."""
    program = """
import sys, time
from pydicom import dcmread
from pynetdicom import AE, _config
_config.STORE_SEND_CHUNKED_DATASET = True
port, each, files = int(sys.argv[1]), sys.argv[2] == "each", sys.argv[3:]
ae = AE(ae_title="BENCH")
for uid in sorted({str(dcmread(f, stop_before_pixels=True).SOPClassUID) for f in files}):
    ae.add_requested_context(uid, ["1.2.840.10008.1.2.1"])
started = time.perf_counter()
for batch in ([[f] for f in files] if each else [files]):
    assoc = ae.associate("127.0.0.1", port, ae_title="PSHARE")
    assert assoc.is_established
    for f in batch:
        status = assoc.send_c_store(f)
        assert status.Status == 0, hex(status.Status)
    assoc.release()
print(time.perf_counter() - started)
"""
    each = "each" if association_per_file else "one"
    done = subprocess.run([sys.executable, "-c", program, str(port), each, *map(str, files)], check=True,
                          timeout=600, capture_output=True, text=True)  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def send_pynetdicom_each(port: int, files: list[Path]) -> float:
    return send_pynetdicom(port, files, association_per_file=True)


def dcmtk_reference(files: list[Path], kept_in: Path | None) -> float:
    """storescu into DCMTK's own SCP (its largest PDU), both with Nagle's algorithm off, for reference:
    discarding what it receives (``--ignore``: how fast the client alone can send), or, with ``kept_in``,
    writing each file there as received (``+B -od``; storescp does not fsync)."""
    port = free_port()
    if kept_in is None:
        keeping = ["--ignore"]
    else:
        shutil.rmtree(kept_in, ignore_errors=True)
        kept_in.mkdir(parents=True)
        keeping = ["+B", "-od", str(kept_in)]
    sink = subprocess.Popen(["storescp", *keeping, "-pdu", "131072", "-aet", AE_TITLE, str(port)],
                            env=dcmtk_env(nodelay=True))  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        return send_storescu(port, files, nodelay=True)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
        if kept_in is not None:
            kept = len(list(kept_in.iterdir()))
            shutil.rmtree(kept_in)
            assert kept == len(files), f"storescp kept {kept} of {len(files)}"


def measure(
    name: str,
    files: list[Path],
    workdir: Path,
    runs: int,
    senders: dict[str, Callable[[int, list[Path]], float]],
    warm_up: Path,
) -> dict[str, object]:
    size = sum(p.stat().st_size for p in files)
    copy = statistics.median(copy_files(files, workdir / "copy", durable=True) for _ in range(runs))
    copy_cached = statistics.median(copy_files(files, workdir / "copy", durable=False) for _ in range(runs))
    result: dict[str, object] = {"files": len(files), "MB": round(size / 1e6, 1), "copy_s": round(copy, 3),
                                 "copy_not_fsynced_s": round(copy_cached, 3)}  # fmt: skip
    if "storescu" in senders and shutil.which("storescp"):
        reference = statistics.median(dcmtk_reference(files, None) for _ in range(runs))
        # The best ratio an SCP could reach with this client: it alone, into an SCP that keeps nothing.
        result["storescu_to_storescp_ignore_s"] = round(reference, 3)
        result["storescu_to_storescp_ignore_ratio"] = round(copy / reference, 2)
        keeping = statistics.median(dcmtk_reference(files, workdir / "storescp") for _ in range(runs))
        # What DCMTK's C++ SCP reaches when it keeps the files (without the fsyncs the gateway makes).
        result["storescu_to_storescp_keeping_s"] = round(keeping, 3)
        result["storescu_to_storescp_keeping_ratio"] = round(copy / keeping, 2)
    for client, send in senders.items():
        if client == "pynetdicom_association_per_file" and len(files) == 1:
            continue  # one file: the same as one association
        times, peaks = [], []
        for _ in range(runs):
            with gateway(workdir) as (port, pid, spool):
                send(port, [warm_up])  # a running gateway, not its first C-STORE after start
                times.append(send(port, files))
                peaks.append(peak_rss_mb(pid))
                kept = list((spool / "pending").glob("*.dcm"))
                assert len(kept) == len(files) + 1, f"{len(kept) - 1} of {len(files)} in the spool"
                assert sum(p.stat().st_size for p in kept) >= size
        took = statistics.median(times)
        result[client] = {"s": round(took, 3), "MB/s": round(size / 1e6 / took, 1), "ratio": round(copy / took, 2),
                          "peak_MB": round(max(peaks), 1)}  # fmt: skip
    print(json.dumps({name: result}), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from bench.ingest import make_file

    senders: dict[str, Callable[[int, list[Path]], float]] = {}
    if shutil.which("storescu"):
        senders["storescu"] = send_storescu
    senders["pynetdicom"] = send_pynetdicom
    senders["pynetdicom_association_per_file"] = send_pynetdicom_each
    clients = {"storescu": STORESCU, "pynetdicom": PYNETDICOM, "pynetdicom_association_per_file": PYNETDICOM_EACH}
    described = {name: clients[name] for name in senders}
    if "storescu" in senders and shutil.which("storescp"):
        described["storescu_to_storescp_ignore"] = REFERENCE
        described["storescu_to_storescp_keeping"] = REFERENCE_KEEPING
    print(json.dumps({"clients": described}), flush=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "build" if (ROOT / "build").is_dir() else None) as tmp:
        workdir = Path(tmp)
        cine = make_file(workdir / "cine.dcm", 150)
        series = make_series(workdir / "series", 100)
        warm_up = make_series(workdir / "warm-up", 1)[0]
        cine_result = measure("cine_150_frames", [cine], workdir, args.runs, senders, warm_up)
        series_result = measure("ct_series_100", series, workdir, args.runs, senders, warm_up)
    results = {"cine_150_frames": cine_result, "ct_series_100": series_result}
    goals = {
        "ratio >= 0.5": {
            f"{name}/{client}": r["ratio"] >= 0.5
            for name, result in results.items()
            for client, r in result.items()
            if isinstance(r, dict)
        },
        "cine peak < 100 MB": {client: r["peak_MB"] < 100 for client, r in cine_result.items() if isinstance(r, dict)},
    }
    print(json.dumps({"goals_met": goals}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
