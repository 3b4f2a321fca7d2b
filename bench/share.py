"""Send-to-patient speed on the local stack, and how many AWS calls each step makes.

    python bench/share.py [--runs N]

1. Starts the local stack (``python -m local.run``, as ``make run`` does) on free ports.
2. Stores a study of 20 single 640×480 RGB images (STOW-RS) and one 150-frame 640×480 RGB cine
   (~138 MB, pre-signed upload), then times ``POST /studies/{uid}/shares`` until the e-mail is in the
   local outbox (goal: within 5 s locally). The whole pipeline runs: anonymize, render JPEG/MP4, ZIP,
   upload, send.
3. Times the landing page (median of N GETs: the server's time, on loopback).
4. Counts the AWS calls of the landing page and of the share request, in-process against a moto server,
   by counting the HTTP requests botocore sends (goal: landing page ≤ 3).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import free_port, make_file, moto_server, wait_for_port  # noqa: E402

EMAIL = "bench.patient@example.org"


def http(
    method: str, url: str, *, key: str | None = None, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - our own loopback stack
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def stow(base: str, key: str, files: list[Path]) -> None:
    boundary = "bench-boundary"
    for start in range(0, len(files), 4):  # 4 images a request stays under the 4 MB STOW limit
        body = (
            b"".join(
                b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + f.read_bytes() + b"\r\n"
                for f in files[start : start + 4]
            )
            + b"--"
            + boundary.encode()
            + b"--\r\n"
        )
        status, answer = http(
            "POST",
            f"{base}/dicomweb/studies",
            key=key,
            body=body,
            headers={"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'},
        )
        if status != 200:
            raise RuntimeError(f"STOW failed: {status} {answer[:200]!r}")


def upload_large(base: str, key: str, path: Path) -> None:
    import requests

    _, body = http("POST", f"{base}/studies/uploads", key=key, body={"files": 1})
    upload = json.loads(body)
    post = upload["files"][0]["upload"]
    with path.open("rb") as file:
        sent = requests.post(post["url"], data=post["fields"], files={"file": ("cine.dcm", file)}, timeout=300)
    sent.raise_for_status()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, current = http("GET", f"{base}/studies/uploads/{upload['upload_id']}", key=key)
        if json.loads(current)["files"][0]["status"] != "pending":
            return
        time.sleep(0.5)
    raise RuntimeError("the cine was not indexed")


def outbox_count(base: str) -> int:
    _, body = http("GET", f"{base}/_local/outbox", headers={"Accept": "application/json"})
    return sum(1 for m in json.loads(body)["messages"] if m["kind"] == "email" and EMAIL in m["to"])


def latest_link(base: str) -> str:
    _, body = http("GET", f"{base}/_local/outbox", headers={"Accept": "application/json"})
    message = next(m for m in json.loads(body)["messages"] if m["kind"] == "email" and EMAIL in m["to"])
    return str(next(u for u in message["links"] if "/p/" in u))


def measure_stack(runs: int) -> dict[str, float]:
    port, aws_port = free_port(), free_port()
    state = Path(tempfile.mkdtemp(prefix="bench-share-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESOURCE_PREFIX", "POWERTOOLS_"))}
    env.update(
        {"PORT": str(port), "AWS_PORT": str(aws_port), "LOCAL_STATE_DIR": str(state), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    )
    stack = subprocess.Popen(
        [sys.executable, "-m", "local.run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, 60)
        while not (state / "demo.json").exists():
            time.sleep(0.1)
        key = json.loads((state / "demo.json").read_text())["api_key"]
        from pydicom import dcmread

        with tempfile.TemporaryDirectory() as tmp:
            images = [make_file(Path(tmp) / f"image-{i}.dcm", 1) for i in range(20)]
            cine = make_file(Path(tmp) / "cine.dcm", 150)
            study = str(dcmread(cine, stop_before_pixels=True).StudyInstanceUID)
            for image in images:  # one study: give every image the cine's study
                ds = dcmread(image)
                ds.StudyInstanceUID = study
                ds.BurnedInAnnotation = "NO"
                ds.save_as(image)
            ds = dcmread(cine)
            ds.BurnedInAnnotation = "NO"
            ds.save_as(cine)
            stow(base, key, images)
            upload_large(base, key, cine)
        before = outbox_count(base)
        started = time.perf_counter()
        status, _ = http("POST", f"{base}/studies/{study}/shares", key=key, body={"contacts": EMAIL})
        assert status == 202, status
        while outbox_count(base) == before:
            if time.perf_counter() - started > 300:
                raise RuntimeError("no e-mail within 300 s")
            time.sleep(0.05)
        to_email = time.perf_counter() - started
        link = latest_link(base)
        page_times = []
        for _ in range(runs):
            began = time.perf_counter()
            status, _ = http("GET", link)
            page_times.append(time.perf_counter() - began)
            assert status == 200
        return {"email_s": to_email, "landing_ms": statistics.median(page_times) * 1000}
    finally:
        stack.terminate()
        stack.wait(timeout=30)


def count_calls() -> dict[str, int]:
    """AWS calls of one landing page view and one share request, counted at botocore's HTTP layer."""
    with moto_server("patient-share-benchcalls"):
        return _count_calls()


def _count_calls() -> dict[str, int]:
    from botocore.httpsession import URLLib3Session
    from chalice.test import Client

    from app import app
    from chalicelib import wiring
    from chalicelib.services import accounts, ingest, shares
    from chalicelib.settings import settings
    from local.stack import create_all
    from tests import dicom_files

    create_all(settings())
    deps = wiring.deps()
    clinic, issued = accounts.create_clinic("Bench Clinic", deps)
    study = "1.2.826.0.1.3680043.8.498.999"
    ingest.store_instances(clinic.clinic_id, [dicom_files.instance(study_uid=study, burned_in="NO", frames=3)], deps)
    sent: list[int] = []
    original = URLLib3Session.send

    def counted(self: Any, request: Any) -> Any:
        sent.append(1)
        return original(self, request)

    URLLib3Session.send = counted  # type: ignore[method-assign]  # instrumentation of this bench only
    try:
        with Client(app) as client:
            headers = {"Authorization": f"Bearer {issued.plain_text}", "Content-Type": "application/json"}
            sent.clear()
            client.http.post(f"/studies/{study}/shares", headers=headers, body=json.dumps({"contacts": EMAIL}))
            share_calls = len(sent)
            (share,) = deps.shares.for_study(clinic.clinic_id, study)
            shares.prepare_and_send(share.share_id, deps)
            token = shares.sent_share_token(deps.shares.get(share.share_id), deps)
            client.http.get(f"/p/{token}")  # warm: first use builds clients and reads table descriptions
            sent.clear()
            response = client.http.get(f"/p/{token}")
            assert response.status_code == 200, response.status_code
            landing_calls = len(sent)
    finally:
        URLLib3Session.send = original  # type: ignore[method-assign]
    return {"share_request": share_calls, "landing_page": landing_calls}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    timings = measure_stack(args.runs)
    calls = count_calls()
    print(
        f"POST …/shares → e-mail in the outbox (20 images + 150-frame cine): {timings['email_s']:.2f} s "
        f"(goal ≤ 5 s) {'OK' if timings['email_s'] <= 5 else 'OVER'}"
    )
    print(f"landing page, median of {args.runs}: {timings['landing_ms']:.1f} ms")
    print(
        f"AWS calls: share request {calls['share_request']}, landing page {calls['landing_page']} "
        f"(goal ≤ 3) {'OK' if calls['landing_page'] <= 3 else 'OVER'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
