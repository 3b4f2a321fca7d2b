"""The command line: what it refuses to run with, ``--status`` and ``--retry-failed``, and the two ways a
clinic's box starts it (the Dockerfile and the systemd unit), parsed by the gateway's own parser."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway import cli
from gateway.spool import Spool

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    key = tmp_path / "key"
    key.write_text("psk_0123_secret\n")
    key.chmod(0o600)
    return key


def problem(*argv: str) -> str | None:
    return cli.check_run_arguments(cli.parser().parse_args(list(argv)))


def test_the_command_line_refuses_what_would_be_unsafe_or_cannot_work(key_file: Path, tmp_path: Path) -> None:
    base = ["--ae-title", "PSHARE", "--api-url", "https://share.example.org", "--api-key-file", str(key_file)]
    assert problem(*base, "--allow", "US1") is None
    assert problem(*base, "--allow-any") is None
    assert "--allow" in (problem(*base) or "")
    assert "--allow" in (problem(*base, "--allow", "US1", "--allow-any") or "")
    assert "https" in (problem(*base[:2], "--api-url", "http://share.example.org", *base[4:], "--allow", "US1") or "")
    assert problem(*base[:2], "--api-url", "http://127.0.0.1:8000", *base[4:], "--allow", "US1") is None
    assert "go together" in (problem(*base, "--allow", "US1", "--tls-cert", "c.pem") or "")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "empty" in (problem(*base[:4], "--api-key-file", str(empty), "--allow", "US1") or "")
    assert "cannot be read" in (problem(*base[:4], "--api-key-file", str(tmp_path / "nope"), "--allow", "US1") or "")


def test_the_key_has_no_command_line_option_nor_environment_variable() -> None:
    options = {o for action in cli.parser()._actions for o in action.option_strings}
    assert "--api-key-file" in options
    assert not [o for o in options if "key" in o and o != "--api-key-file" and not o.startswith("--tls")]
    for module in (ROOT / "gateway").glob("*.py"):
        assert "os.environ" not in module.read_text()
        assert "getenv" not in module.read_text()


def test_status_prints_pending_failed_and_the_oldest_age(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=10**9, min_free_bytes=0)
    spool.prepare()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for i in range(3):
        incoming = spool.incoming / f"{i}.dcm"
        incoming.write_bytes(b"x" * 100)
        kept = spool.accept(incoming, f"1.2.3.{i}", an_hour_ago)
    spool.fail(kept.name, {"reason": "The file is not DICOM"})

    assert cli.main(["--status", "--spool", str(spool.root)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["pending"] == 2
    assert status["failed"] == 1
    assert status["pending_bytes"] == 200
    assert 3590 < status["oldest_pending_age_s"] < 3700

    assert cli.main(["--retry-failed", "--spool", str(spool.root)]) == 0
    assert json.loads(capsys.readouterr().out) == {"moved_to_pending": 1}
    assert len(spool.pending()) == 3

    assert cli.main(["--status", "--spool", str(tmp_path / "none")]) == 2


def entry_commands() -> list[list[str]]:
    """The gateway's arguments as the Dockerfile and the systemd unit give them."""
    dockerfile = (ROOT / "gateway" / "Dockerfile").read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*?\])$", dockerfile.replace("\\\n", ""), re.M | re.S)[1])  # type: ignore[index]
    documented_run = re.search(r"patient-share-gateway (--api-url .*)$", dockerfile, re.M)[1]  # type: ignore[index]
    unit = (ROOT / "gateway" / "patient-share-gateway.service").read_text().replace("\\\n", "")
    exec_start = shlex.split(re.search(r"^ExecStart=(.*)$", unit, re.M)[1])  # type: ignore[index]
    return [entrypoint[3:] + shlex.split(documented_run), exec_start[3:]]


@pytest.mark.parametrize("index", [0, 1], ids=["Dockerfile", "systemd unit"])
def test_the_box_starts_the_gateway_with_arguments_it_accepts(index: int, tmp_path: Path, key_file: Path) -> None:
    argv = entry_commands()[index]
    args = cli.parser().parse_args(argv)
    args.api_key_file = key_file  # the box's own path to it (a secret mount, a systemd credential)
    assert cli.check_run_arguments(args) is None
    assert args.ae_title == "PSHARE"
    assert args.port == 11112
    assert args.allow
    assert str(args.api_url).startswith("https://")
