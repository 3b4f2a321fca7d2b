"""The media image's task root, assembled as its Dockerfile does (Chalice's zip and the packaged template,
``package_dir`` and ``template``, are in tests/conftest.py: tests/security reads the template too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The media image's task root as its Dockerfile assembles it, with the wheels Lambda's image gets."""
    out = tmp_path_factory.mktemp("media") / "task"
    subprocess.run(
        [sys.executable, str(ROOT / "infra" / "media" / "assemble.py"), str(out), "--lambda-platform"],
        check=True, capture_output=True,
    )  # fmt: skip
    return out
