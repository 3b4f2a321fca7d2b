"""Shared fixtures. The environment is set before anything of chalicelib is imported: the tests run
against in-process moto (no endpoint URL), in the ``local`` stage."""

from __future__ import annotations

import os

os.environ.update(
    {
        "STAGE": "local",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1",
        "AWS_REGION": "eu-north-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "patient-share",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "RESOURCE_PREFIX": "patient-share-test",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

pytest_plugins = ["tests.leak_check", "pytester"]

import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import wiring  # noqa: E402
from chalicelib.services.deps import Deps  # noqa: E402
from chalicelib.settings import settings  # noqa: E402
from tests.fakes import FakeClock, fake_deps  # noqa: E402


@pytest.fixture
def service_logs() -> Iterator[Callable[[], str]]:
    """Reads every JSON log line the service has written so far in the test, as Powertools formats it."""
    import io
    import logging

    from chalicelib.observability import logger

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    target = logging.getLogger(logger.name)
    target.addHandler(handler)
    try:
        yield buffer.getvalue
    finally:
        target.removeHandler(handler)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deps(clock: FakeClock) -> Iterator[Deps]:
    """In-memory dependencies, installed as the process's own for the test."""
    with wiring.override(fake_deps(clock)) as installed:
        yield installed


@pytest.fixture
def aws() -> Iterator[None]:
    """In-process moto with every resource of the resource list created."""
    from local.stack import create_all

    with mock_aws():
        create_all(settings())
        yield


@pytest.fixture
def whole_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let in-process moto handle one request at a time, as DynamoDB applies each conditional write whole.

    moto itself takes no lock, so two threads may interleave inside one of its updates, which no real
    table does. Our code's threads still interleave freely between requests (and while scrypt checks a
    secret), so the races a test shows are our code's, not moto's.
    """
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.Lock()
    handle = BotocoreStubber.__call__

    def one_at_a_time(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return handle(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", one_at_a_time)


@pytest.fixture
def real_deps(aws: None) -> Iterator[Deps]:
    """The real adapters, on in-process moto, installed as the process's own for the test."""
    with wiring.override(wiring.build()) as installed:
        yield installed


@pytest.fixture
def client() -> Iterator[Client]:
    """Chalice's in-process HTTP client (it runs the authorizer as API Gateway would)."""
    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``chalice package`` with the infra template merged: ``deployment.zip`` and ``sam.yaml``."""
    out = tmp_path_factory.mktemp("package") / "package"
    # The package is built as a deployment would be: with the stage's own environment, not the tests'.
    env = {k: v for k, v in os.environ.items() if k not in {"STAGE", "RESOURCE_PREFIX"}}
    env["AWS_DEFAULT_REGION"] = "eu-north-1"
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run(
        [str(chalice), "package", "--stage", "dev", "--template-format", "yaml",
         "--merge-template", "infra/resources.yaml", str(out)],
        cwd=Path(__file__).resolve().parents[1], env=env, check=True, capture_output=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def template(package_dir: Path) -> dict[str, Any]:
    """The packaged CloudFormation template (``sam.yaml``), as cfn-lint reads it."""
    from cfnlint.decode import cfn_yaml

    loaded: dict[str, Any] = cfn_yaml.load(str(package_dir / "sam.yaml"))
    return loaded
