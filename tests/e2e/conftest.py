"""The running local stack (`make run`'s own entry point), started once for the e2e tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import patient_data

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN_S = 30


@dataclass(frozen=True)
class Stack:
    base_url: str
    aws_endpoint: str
    demo: dict[str, str]
    started_in_s: float
    env: dict[str, str]
    log_path: Path

    def request(
        self, method: str, path: str, *, key: str | None = None, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            all_headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def new_clinic(self, name: str) -> str:
        """A clinic of the test's own (its data and settings are the test's alone); returns its API key."""
        done = subprocess.run(
            [sys.executable, "-m", "chalicelib.admin", "create-clinic", name],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        key: str = json.loads(done.stdout)["api_key"]
        return key

    def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = self.request(method, path, **kwargs)
        return status, json.loads(body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("local-state")) as started:
        yield started


@contextmanager
def running_stack(state: Path, port: int | None = None, aws_port: int | None = None) -> Iterator[Stack]:
    """``python -m local.run`` with its state in ``state``, on the given ports (free ones by default), until
    the block ends; then Ctrl-C, which must stop it cleanly, with no patient data in its log."""
    port, aws_port = port or free_port(), aws_port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESOURCE_PREFIX", "POWERTOOLS_"))}
    env.update({"PORT": str(port), "AWS_PORT": str(aws_port), "LOCAL_STATE_DIR": str(state), "PYTHONUNBUFFERED": "1"})
    log_path = state / "stack.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    demo_file = state / "demo.json"
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the local stack exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            if demo_file.exists() and _answers(base_url + "/health") and _answers(base_url + "/_local/outbox"):
                break
            if time.monotonic() - started > 4 * READY_WITHIN_S:
                pytest.fail(f"the local stack did not come up:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        aws_env = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "eu-north-1",
        }
        yield Stack(
            base_url,
            aws_env["AWS_ENDPOINT_URL"],
            json.loads(demo_file.read_text()),
            time.monotonic() - started,
            {**env, **aws_env},
            log_path,
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            code = -9
        output = log_path.read_text()
        assert code == 0, f"the local stack did not stop cleanly on Ctrl-C ({code}):\n{output[-3000:]}"
        leaked = patient_data.leaked(output)
        assert not leaked, f"{len(leaked)} patient value(s) reached the local stack's logs ({log_path})"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, shared by the page tests."""
    from tests.e2e.browsers import launch

    yield from launch()
