"""Two-step sign-in set up in Chromium on the running stack: the QR code draws under the CSP, axe finds nothing
critical or serious, and the next sign-in asks for the code."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.browsers import ARTIFACTS, watch
from tests.e2e.conftest import ROOT, Stack
from tests.fakes import authenticator_code

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TEMPORARY = "Temporary-Pass-1"
PERMANENT = "Permanent-Pass-2"


def serious(page: Any) -> list[str]:
    """axe's critical and serious findings on the page (none allowed)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in found if v.get("impact") in {"critical", "serious"}]


def test_a_member_sets_up_totp_with_the_qr_code(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    email = f"totp-{uuid.uuid4().hex[:8]}@klinik.example"  # a member of the test's own: the demo admin stays as is
    subprocess.run(
        [sys.executable, "-m", "chalicelib.admin", "create-staff", stack.demo["clinic_id"], email,
         "--role", "clinician", "--temporary-password", TEMPORARY],
        cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    problems = watch(page)
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and r.status != 422 else None
    )
    page.goto(f"{stack.base_url}/console/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(TEMPORARY)
    page.keyboard.press("Enter")
    page.get_by_label("New password").fill(PERMANENT)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/studies$"))  # where /console leads

    page.get_by_role("link", name="Two-step sign-in").click()
    expect(page.locator("h1")).to_have_text("Two-step sign-in")
    expect(page.locator(".state")).to_contain_text("off")
    assert serious(page) == []
    page.get_by_label("Your password").fill(PERMANENT)
    page.keyboard.press("Enter")

    qr = page.get_by_role("img", name="Scan the QR code with the app")
    expect(qr).to_be_visible()
    assert qr.evaluate("e => getComputedStyle(e).paddingTop") == "8px"  # console_security.css applies
    box = qr.locator("svg").bounding_box()
    assert box is not None
    assert box["width"] >= 120
    assert serious(page) == []
    page.screenshot(path=str(ARTIFACTS / "console-security-qr.png"), full_page=True)
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    right = code_now(secret)
    page.get_by_label("Six-digit code").fill("000000" if right != "000000" else "111111")
    page.keyboard.press("Enter")  # the local stack checks codes as Cognito does
    expect(page.get_by_role("alert")).to_contain_text("The code does not match")
    expect(qr).to_be_visible()
    page.get_by_label("Six-digit code").fill(code_now(secret))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Two-step sign-in is now on.")
    assert serious(page) == []

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PERMANENT)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Enter the code from your authenticator app")
    page.get_by_label("Six-digit code").fill(code_now(secret))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/studies$"))  # where /console leads
    assert problems == []
    context.close()


def code_now(secret: str) -> str:
    """The code an app shows now, not in the last seconds of its 30-second step (it must hold when checked)."""
    if 30 - time.time() % 30 < 3:
        time.sleep(3)
    return authenticator_code(secret, datetime.now(UTC))
