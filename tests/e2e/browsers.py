"""Real headless Chromium (Debian's package, driven by Playwright) for the page tests.

Never a browser Playwright downloads itself: ``make test`` installs Debian's ``chromium``. The flags keep
Chromium off the network it cannot reach here (background services, QUIC) and out of a sandbox that
needs privileges a test run may not have.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


def launch() -> Iterator[Any]:
    """A headless Chromium for the duration of the generator."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def watch(page: Any) -> list[str]:
    """Script errors and CSP violations of a page: there must be none."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return problems


def loaded(page: Any, selector: str) -> dict[str, int]:
    """Wait until the picture at ``selector`` has loaded; its natural size."""
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0 }",
        arg=selector,
        timeout=30_000,
    )
    size: dict[str, int] = page.eval_on_selector(selector, "i => ({w: i.naturalWidth, h: i.naturalHeight})")
    return size


def axe_findings(page: Any, *, impacts: tuple[str, ...] = ("critical", "serious")) -> list[str]:
    """What axe-core (bundled with axe-playwright-python, run in the page) finds of these impacts: rule id,
    impact and the first offending element of each, so a failing assertion says what to fix."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes'][0]['target'] if v['nodes'] else '?'}"
        for v in violations
        if v["impact"] in impacts
    ]
