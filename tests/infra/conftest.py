"""The two deployables, built as a deployment builds them: Chalice's zip and the media image's task root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]


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
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def template(package_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(package_dir / "sam.yaml"))
    return loaded


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The media image's task root as its Dockerfile assembles it, with the wheels Lambda's image gets."""
    out = tmp_path_factory.mktemp("media") / "task"
    subprocess.run(
        [sys.executable, str(ROOT / "infra" / "media" / "assemble.py"), str(out), "--lambda-platform"],
        check=True, capture_output=True,
    )  # fmt: skip
    return out
