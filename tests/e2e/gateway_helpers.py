"""The gateway as a clinic runs it (``python -m gateway`` in its own process, on 127.0.0.1), its clients
(pynetdicom's SCU and DCMTK's ``storescu``), and what the e2e tests read back from the stack."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pydicom import dcmread
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage, generate_uid
from pynetdicom import AE

from tests import dicom_files, patient_data
from tests.e2e.conftest import ROOT, Stack, free_port

AE_TITLE = "PSHARE"
MODALITY = "US1"


@dataclass
class GatewayProcess:
    """One run of ``python -m gateway``; ``log`` collects every run's output on this spool."""

    spool: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    argv: list[str] = field(default_factory=list)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["event"] == event]

    def start(self) -> GatewayProcess:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: '"event": "started"' in self.log.read_text()[offset:], 30, "the gateway to start", self)
        return self

    def kill(self) -> None:
        """``kill -9``: no handler runs, nothing is flushed but what was fsynced."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, as systemd and docker stop it; it must end by itself, and its log hold no patient data."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                pytest.fail("the gateway did not stop on SIGTERM")
        assert self.process is None or self.process.returncode in (0, -9), self.log.read_text()[-3000:]
        assert patient_data.leaked(self.log.read_text()) == [], "patient data in the gateway's log"

    def pending(self) -> list[str]:
        return sorted(p.name for p in (self.spool / "pending").glob("*.dcm"))

    def failed(self) -> list[str]:
        return sorted(p.name for p in (self.spool / "failed").glob("*.dcm"))

    def drained(self) -> bool:
        return not self.pending() and not list((self.spool / "batches").glob("*.json"))


def gateway(folder: Path, api_url: str, key: str, *extra: str, allow: Iterable[str] = (MODALITY,)) -> GatewayProcess:
    """A gateway (not yet started) for ``api_url`` with ``key`` in its key file."""
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "api-key"
    write_key(key_file, key)
    port = free_port()
    spool = folder / "spool"
    argv = [sys.executable, "-m", "gateway", "--ae-title", AE_TITLE, "--port", str(port), "--bind", "127.0.0.1",
            "--api-url", api_url, "--api-key-file", str(key_file), "--spool", str(spool), "--max-backoff", "2",
            *(a for title in allow for a in ("--allow", title)), *extra]  # fmt: skip
    return GatewayProcess(spool, port, folder / "gateway.log", argv=argv)


def write_key(path: Path, key: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(key + "\n")
    temporary.chmod(0o600)
    os.replace(temporary, path)


def wait_for(check: Callable[[], Any], timeout_s: float, what: str, gw: GatewayProcess | None = None) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if gw is not None and gw.process is not None and gw.process.poll() is not None:
            pytest.fail(f"the gateway exited ({gw.process.returncode}):\n{gw.log.read_text()[-3000:]}")
        time.sleep(0.1)
    tail = gw.log.read_text()[-3000:] if gw is not None and gw.log.exists() else ""
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}\n{tail}")


# ---------------------------------------------------------------------------------------------- a study


def study_files(folder: Path, *, cine_frames: int = 30, ct_slices: int = 5) -> tuple[str, list[Path]]:
    """A study as an ultrasound machine and a CT send it: a multi-frame US cine, a single US image and a CT
    series; written as Part 10 files. Returns the study's UID and the files."""
    folder.mkdir(parents=True, exist_ok=True)
    study = generate_uid()
    us_series, ct_series = generate_uid(), generate_uid()
    bodies = [
        dicom_files.instance(study_uid=study, series_uid=us_series, frames=cine_frames, rows=240, columns=320),
        dicom_files.instance(study_uid=study, series_uid=us_series, sop_class=UltrasoundImageStorage),
        *(dicom_files.ct_slice(study_uid=study, series_uid=ct_series, number=n + 1) for n in range(ct_slices)),
    ]
    paths = []
    for n, body in enumerate(bodies):
        path = folder / f"{n:03d}.dcm"
        path.write_bytes(body)
        paths.append(path)
    return study, paths


def sop_uid(path: Path) -> str:
    return str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def send_pynetdicom(port: int, files: list[Path], calling: str = MODALITY) -> list[int]:
    """C-STORE each file with pynetdicom's SCU in one association; each response's status."""
    datasets = [dcmread(f) for f in files]
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 60
    for uid in sorted({str(ds.SOPClassUID) for ds in datasets}):
        ae.add_requested_context(uid, [ExplicitVRLittleEndian])
    assoc = ae.associate("127.0.0.1", port, ae_title=AE_TITLE)
    assert assoc.is_established, "the gateway did not accept the association"
    try:
        return [int(assoc.send_c_store(ds).Status) for ds in datasets]
    finally:
        assoc.release()


def send_raw_files(port: int, files: list[Path], calling: str = MODALITY) -> list[int]:
    """C-STORE files as they are on disk, without parsing their datasets (pynetdicom's chunked sending,
    in a process of its own): how a damaged file reaches the gateway."""
    program = """
import sys
from pydicom.filereader import read_file_meta_info
from pynetdicom import AE, _config
_config.STORE_SEND_CHUNKED_DATASET = True
port, calling, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
metas = [read_file_meta_info(f) for f in files]
ae = AE(ae_title=calling)
for uid in sorted({str(m.MediaStorageSOPClassUID) for m in metas}):
    ae.add_requested_context(uid, ["1.2.840.10008.1.2.1"])
assoc = ae.associate("127.0.0.1", port, ae_title="PSHARE")
print(",".join(str(assoc.send_c_store(f).Status) for f in files))
assoc.release()
"""
    done = subprocess.run([sys.executable, "-c", program, str(port), calling, *map(str, files)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return [int(s) for s in done.stdout.strip().split(",")]


def storescu() -> str:
    path = shutil.which("storescu")
    if path is None:
        pytest.fail("DCMTK's storescu is missing: apt-get install dcmtk (make test installs it)")
    return path


def send_storescu(port: int, files: list[Path], calling: str = MODALITY) -> subprocess.CompletedProcess[str]:
    return subprocess.run([storescu(), "-aet", calling, "-aec", AE_TITLE, "127.0.0.1", str(port), *map(str, files)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


# ---------------------------------------------------------------------------------------------- the stack


def study_instances(stack: Stack, key: str, study_uid: str) -> list[str]:
    """SOP Instance UIDs the study index holds for the study (empty while it is not there)."""
    status, body = stack.json("GET", f"/studies/{study_uid}", key=key)
    if status != 200:
        return []
    return sorted(i["sop_instance_uid"] for s in body["series"] for i in s["instances"])


def qido_by_name(stack: Stack, key: str, name: str) -> list[dict[str, Any]]:
    status, _, body = stack.request(
        "GET", f"/dicomweb/studies?PatientName={quote(name)}", key=key, headers={"Accept": "application/dicom+json"}
    )
    assert status == 200, body[:500]
    found: list[dict[str, Any]] = json.load(io.BytesIO(body))
    return found
