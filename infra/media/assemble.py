"""Assemble the media workers' Lambda task root: their runtime packages and our code.

    python infra/media/assemble.py OUT [--lambda-platform]

The Dockerfile beside this file runs it inside Lambda's python3.11 base image. ``--lambda-platform``
fetches the wheels that image would get (manylinux2014 x86_64, CPython 3.11) on any other machine, so
that ``tests/infra`` can check the image's set loads and works without a Docker engine.
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements-media.txt"
#: What Lambda's python3.11 image (Amazon Linux 2, glibc 2.26) can load.
LAMBDA_PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11",
                   "--only-binary=:all:"]  # fmt: skip


def assemble(out: Path, *, lambda_platform: bool = False) -> Path:
    """Install the media requirements and copy ``chalicelib`` into ``out``; returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--target", str(out), "-r", str(REQUIREMENTS), *(LAMBDA_PLATFORM if lambda_platform else [])],
                   check=True)  # fmt: skip
    shutil.rmtree(out / "chalicelib", ignore_errors=True)
    shutil.copytree(ROOT / "chalicelib", out / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # The task root is read-only in Lambda: without bytecode, every cold start would compile our code again.
    compileall.compile_dir(out / "chalicelib", quiet=1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--lambda-platform", action="store_true", help="fetch wheels for Lambda's python3.11")
    args = parser.parse_args()
    assemble(args.out, lambda_platform=args.lambda_platform)
    return 0


if __name__ == "__main__":
    sys.exit(main())
