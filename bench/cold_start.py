"""Cold start of the API Lambda: import time of app.py against a bare Chalice + boto3 + pynamodb app, and the size
of the unzipped deployment package, with what takes the space; then the media image's task root.

    python bench/cold_start.py [--runs N] [--skip-package]

Each import is timed in a fresh interpreter (as a cold Lambda starts one), alternating ours and the
baseline so that machine noise hits both alike; the median of N runs is compared. Goals: ratio ≤ 1.3,
package ≤ 200 MB unzipped. The media workers' container image has no such limit (10 GB); its size is
printed for the record.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATIO_GOAL = 1.3
PACKAGE_GOAL_MB = 200

BASELINE_APP = """
import boto3
from chalice import Chalice
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

app = Chalice(app_name="bare")
session = boto3.session.Session()  # what importing boto3 makes ready; clients are made on first use


class Item(Model):
    class Meta:
        table_name = "items"
        region = "eu-north-1"

    item_id = UnicodeAttribute(hash_key=True)


@app.route("/")
def index():
    return {"hello": "world"}
"""

TIMER = """
import sys, time
sys.path.insert(0, {path!r})
started = time.perf_counter()
import {module}
print(time.perf_counter() - started)
"""


def import_seconds(path: Path, module: str, env: dict[str, str]) -> float:
    code = TIMER.format(path=str(path), module=module)
    out = subprocess.run([sys.executable, "-c", code], cwd=path, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def measure_imports(runs: int) -> tuple[float, float]:
    env = {
        **os.environ,
        "STAGE": "dev",
        "AWS_DEFAULT_REGION": "eu-north-1",
        "POWERTOOLS_TRACE_DISABLED": "false",
        "PYTHONDONTWRITEBYTECODE": "",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp)
        (bare / "bare_app.py").write_text(BASELINE_APP)
        ours, baseline = [], []
        for _ in range(runs):
            ours.append(import_seconds(ROOT, "app", env))
            baseline.append(import_seconds(bare, "bare_app", env))
    return statistics.median(ours), statistics.median(baseline)


def package_size() -> tuple[int, Counter[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "package"
        chalice = Path(sys.executable).with_name("chalice")
        env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-north-1")}
        subprocess.run([str(chalice), "package", "--stage", "prod", str(out)], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
        with zipfile.ZipFile(out / "deployment.zip") as archive:
            return by_package((info.filename, info.file_size) for info in archive.infolist())


def media_image_size() -> tuple[int, Counter[str]]:
    """The media image's task root, assembled as its Dockerfile does, with the wheels Lambda's image gets."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "task"
        subprocess.run([sys.executable, str(ROOT / "infra" / "media" / "assemble.py"), str(out), "--lambda-platform"],
                       check=True, capture_output=True)  # fmt: skip
        files = (p for p in out.rglob("*") if p.is_file())
        return by_package((str(p.relative_to(out)), p.stat().st_size) for p in files)


def by_package(files: Iterable[tuple[str, int]]) -> tuple[int, Counter[str]]:
    """Total bytes, and bytes by top-level name (a package's metadata and bundled libraries with it)."""
    by_top: Counter[str] = Counter()
    for name, size in files:
        top = name.split("/")[0]
        if top.endswith((".dist-info", ".data")) or top.endswith(".libs"):
            top = top.split("-")[0].split(".")[0] + " (metadata/libs)"
        by_top[top] += size
    return sum(by_top.values()), by_top


def print_sizes(title: str, total: int, by_top: Counter[str], goal_mb: int | None) -> None:
    mb = total / 1e6
    verdict = f"(goal ≤ {goal_mb} MB) {'OK' if mb <= goal_mb else 'OVER'}" if goal_mb else "(no goal: 10 GB limit)"
    print(f"\n{title:32}: {mb:7.1f} MB {verdict}")
    print("\n| what | MB |\n| --- | ---: |")
    for name, size in by_top.most_common(12):
        print(f"| {name} | {size / 1e6:.1f} |")
    rest = total - sum(size for _, size in by_top.most_common(12))
    print(f"| everything else | {rest / 1e6:.1f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--skip-package", action="store_true")
    args = parser.parse_args()

    ours, baseline = measure_imports(args.runs)
    ratio = ours / baseline
    print(f"{'import app.py (API Lambda)':<40}: {ours * 1000:7.1f} ms (median of {args.runs})")
    print(f"{'import bare Chalice + boto3 + pynamodb':<40}: {baseline * 1000:7.1f} ms (baseline, same run)")
    print(f"{'ratio':<40}: {ratio:7.2f}  (goal ≤ {RATIO_GOAL}) {'OK' if ratio <= RATIO_GOAL else 'OVER'}")
    if args.skip_package:
        return 0
    print_sizes("deployment package, unzipped", *package_size(), goal_mb=PACKAGE_GOAL_MB)
    print_sizes("media image, task root", *media_image_size(), goal_mb=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
