"""Ingest speed and memory: header indexing and thumbnailing against ``pydicom.dcmread`` of the same file.

    python bench/ingest.py [--runs N]

Files (generated in a temporary folder): a 150-frame 640×480 RGB ultrasound cine (~138 MB) and a single
640×480 RGB image. For each, in one run:

* index  — our header read (``read_header``: stops before the pixel data), instances per second;
* thumb  — our thumbnail (decodes the first frame only), instances per second;
* floor  — ``pydicom.dcmread`` of the whole file, the baseline, instances per second;

and the ingest worker's peak memory (tracemalloc, which also sees numpy's buffers) while it indexes
and thumbnails the cine from S3 (in-process moto, the real adapters): goal below the file's size.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_file(path: Path, frames: int) -> Path:
    """Write an RGB US instance of ``frames`` 640×480 frames (a moving gradient, like a scan)."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import (
        ExplicitVRLittleEndian,
        UltrasoundImageStorage,
        UltrasoundMultiFrameImageStorage,
        generate_uid,
    )

    rows, columns = 480, 640
    ds = Dataset()
    ds.SOPClassUID = UltrasoundMultiFrameImageStorage if frames > 1 else UltrasoundImageStorage
    ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.StudyDate, ds.Modality = "Bench^Patient", "BENCH-1", "20261123", "US"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if frames > 1:
        ds.NumberOfFrames, ds.CineRate, ds.FrameTime = frames, 30, 33.3
    base = np.add.outer(np.arange(rows), np.arange(columns)).astype(np.uint8)
    pixels = np.empty((frames, rows, columns, 3), dtype=np.uint8)
    for i in range(frames):
        pixels[i, ..., 0] = base + i
        pixels[i, ..., 1] = base[::-1] - i
        pixels[i, ..., 2] = 128
    ds.PixelData = pixels.tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def per_second(action: Callable[[], object], runs: int) -> float:
    """Median rate of ``action`` over ``runs`` timed calls, after one warm-up call."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return 1 / statistics.median(times)


def measure_speed(path: Path, runs: int) -> dict[str, float]:
    from pydicom import dcmread

    from chalicelib.domain.dicom_header import read_header
    from chalicelib.media.dicom_render import thumbnail

    def index() -> object:
        with path.open("rb") as source:
            return read_header(source)

    def thumb() -> object:
        with path.open("rb") as source:
            return thumbnail(source)

    return {
        "index": per_second(index, runs),
        "thumb": per_second(thumb, runs),
        "floor": per_second(lambda: dcmread(path), runs),
    }


def worker_peak_memory(path: Path) -> int:
    """Peak bytes allocated while the ingest worker handles the cine's S3 event.

    moto runs in its own process (server mode), as S3 is another machine in AWS: its copy of the object
    must not count as the worker's memory.
    """
    with moto_server("patient-share-bench"):
        return _worker_peak(path)


@contextmanager
def moto_server(resource_prefix: str) -> Iterator[None]:
    """moto in server mode in a process of its own, this process's environment pointed at it."""
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    os.environ.update(
        {
            "STAGE": "local",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "eu-north-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "RESOURCE_PREFIX": resource_prefix,
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        }
    )
    try:
        wait_for_port(port)
        yield
    finally:
        moto.terminate()
        moto.wait(timeout=10)


def _worker_peak(path: Path) -> int:
    from chalicelib import wiring
    from chalicelib.services.ingest import ingest_object, request_uploads
    from chalicelib.settings import settings
    from local.stack import create_all

    create_all(settings())
    deps = wiring.build()
    upload = request_uploads("cl_00000000000000be", 1, deps).upload
    key = upload.files[0].object_key
    deps.objects.put(deps.buckets.ingest, key, path.read_bytes(), "application/dicom")
    ingest_object(key, deps)  # warm: imports and first-use allocations are not the worker's per-file cost
    tracemalloc.start()
    tracemalloc.reset_peak()
    file = ingest_object(key, deps)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert file is not None
    assert file.status.value == "stored", file.reason
    return peak


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("moto did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        single = make_file(Path(tmp) / "single.dcm", 1)
        cine = make_file(Path(tmp) / "cine.dcm", 150)
        results = {"single": measure_speed(single, args.runs * 4), "cine": measure_speed(cine, args.runs)}
        cine_size = cine.stat().st_size
        peak = worker_peak_memory(cine)

    print(f"{'file':<8}{'index/s':>10}{'thumb/s':>10}{'dcmread/s':>11}{'index÷floor':>13}{'thumb÷floor':>13}")
    for name, r in results.items():
        print(
            f"{name:<8}{r['index']:>10.1f}{r['thumb']:>10.1f}{r['floor']:>11.1f}"
            f"{r['index'] / r['floor']:>12.1f}×{r['thumb'] / r['floor']:>12.1f}×"
        )
    verdict = "OK" if peak < cine_size else "OVER"
    print(
        f"\nworker peak memory on the cine: {peak / 1e6:.1f} MB for a {cine_size / 1e6:.1f} MB file "
        f"({peak / cine_size:.2%} of it; goal below the file's size) {verdict}"
    )
    if args.json:
        print(json.dumps({"speed": results, "cine_bytes": cine_size, "worker_peak_bytes": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
