"""Issue 15's front end on a phone (390×844) in Chromium: the viewer zooms (keys, buttons, wheel, pinch) up to
twice a picture's native size, pans, traps focus and gives it back; a cine fills the row with a name and a
poster frame; "Save the password" says it was saved; a closed chat says so where the patient looks, on an
opaque dock; the local outbox renders e-mails in a sandboxed frame beside their plain text. Screenshots go
into ``test-artifacts/``."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests import dicom_files, patient_data
from tests.e2e.browsers import ARTIFACTS, loaded, watch
from tests.e2e.chat_helpers import start_visit
from tests.e2e.conftest import Stack
from tests.e2e.test_share import count_messages, stow, token_of, wait_for_message

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}
PICTURE = {"rows": 600, "columns": 800}


def share_link(stack: Stack, study: str, parts: list[bytes], email: str) -> str:
    for part in parts:  # one by one: a large picture and a cine together pass STOW's request limit
        stow(stack, [part])
    before = count_messages(stack, "email", email)
    status, _ = stack.json("POST", f"/studies/{study}/shares", key=stack.demo["api_key"], body={"contacts": email})
    assert status == 202
    return f"{stack.base_url}/p/{token_of(wait_for_message(stack, 'email', email, before), stack)}"


def zoom(page: Any) -> float:
    return float(page.get_attribute("#viewer", "data-zoom"))


def shown(page: Any) -> dict[str, float]:
    box: dict[str, float] = page.eval_on_selector(
        ".viewer-image", "i => { const r = i.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width} }"
    )
    return box


def pinch(page: Any, context: Any, spread: int) -> None:
    """Two fingers on the middle of the screen, moving ``spread`` pixels apart each (touch → pointer events)."""
    cdp = context.new_cdp_session(page)
    middle = {"x": PHONE["width"] / 2, "y": 350}

    def fingers(apart: float) -> list[dict[str, float]]:
        return [
            {"x": middle["x"] - 40 - apart, "y": middle["y"], "id": 1},
            {"x": middle["x"] + 40 + apart, "y": middle["y"], "id": 2},
        ]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(0)})
    for step in range(1, 11):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": fingers(spread * step / 10)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_the_viewer_zooms_to_twice_native_pans_and_gives_focus_back(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    study = "1.2.826.0.1.3680043.8.498.970"
    parts = [
        dicom_files.instance(study_uid=study, sop_class="1.2.840.10008.5.1.4.1.1.6.1", us_region=True, **PICTURE),
        dicom_files.instance(study_uid=study, frames=15, burned_in="NO", rows=240, columns=320),
    ]
    link = share_link(stack, study, parts, patient_data.EMAILS[1])
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="sv-SE")
    page = context.new_page()
    problems = watch(page)
    page.goto(link)
    opener = page.locator(".zoom").first
    opener.click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    native = loaded(page, ".viewer-image")
    assert native == {"w": PICTURE["columns"], "h": PICTURE["rows"]}
    page.wait_for_function("() => document.querySelector('#viewer').dataset.zoom")
    fit = zoom(page)
    assert fit == pytest.approx(PHONE["width"] / PICTURE["columns"], rel=0.01)  # the whole picture, edge to edge
    assert shown(page)["w"] == pytest.approx(PHONE["width"], abs=1)
    assert page.evaluate("document.activeElement.dataset.viewer") == "close"
    page.screenshot(path=str(ARTIFACTS / "viewer-fit.png"))

    # The buttons are named in the page's language; + zooms in, and no further than twice native.
    page.get_by_role("button", name="Zooma in").click()
    assert zoom(page) == pytest.approx(fit * 1.25, rel=0.01)
    for _ in range(12):
        page.keyboard.press("+")
    assert zoom(page) == pytest.approx(2.0)
    assert shown(page)["w"] == pytest.approx(2 * PICTURE["columns"], abs=1)
    expect(page.locator(".viewer-level")).to_have_text("200 %")
    page.screenshot(path=str(ARTIFACTS / "viewer-twice-native.png"))

    # Arrow keys pan, and the picture never leaves the screen.
    before = shown(page)
    page.keyboard.press("ArrowRight")
    assert shown(page)["x"] < before["x"]
    for _ in range(40):
        page.keyboard.press("ArrowRight")
    assert shown(page)["x"] == pytest.approx(PHONE["width"] - 2 * PICTURE["columns"], abs=1)

    page.keyboard.press("0")
    assert zoom(page) == pytest.approx(fit)
    page.mouse.move(PHONE["width"] / 2, 300)
    page.mouse.wheel(0, -800)
    page.wait_for_function(f"() => Number(document.querySelector('#viewer').dataset.zoom) > {fit * 1.5}")
    page.keyboard.press("0")
    pinch(page, context, 100)
    assert zoom(page) > fit * 1.5  # the fingers moved from 80 to 280 px apart
    page.screenshot(path=str(ARTIFACTS / "viewer-pinched.png"))
    page.get_by_role("button", name="Zooma ut").click()
    page.get_by_role("button", name="Anpassa till skärmen").click()
    assert zoom(page) == pytest.approx(fit)

    # Focus stays in the dialog, Escape closes it, and focus goes back to the picture that opened it.
    for _ in range(7):
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('#viewer').contains(document.activeElement)")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.querySelector('#viewer').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    assert page.evaluate("document.activeElement === document.querySelector('.zoom')")

    # The cine: the whole row, a name, a poster frame before it plays, inline, muted and looping.
    tile = page.locator(".tile.video")
    grid = page.locator(".grid").bounding_box()
    assert tile.bounding_box()["width"] == pytest.approx(grid["width"], abs=1)
    video = page.locator(".tile.video video")
    expect(video).to_have_accessible_name(re.compile(r"^Filmsekvens cine-\d{3}\.mp4$"))
    assert video.evaluate("v => [v.playsInline, v.muted, v.loop, v.paused]") == [True, True, True, True]
    poster = video.evaluate(
        "v => new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth); "
        "i.onerror = () => done(0); i.src = v.poster })"
    )
    assert poster == 320  # the first picture of the 320×240 cine
    page.screenshot(path=str(ARTIFACTS / "cine-poster.png"), full_page=True)
    assert problems == []
    context.close()


def test_saving_a_password_says_it_was_saved(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    study = "1.2.826.0.1.3680043.8.498.971"
    email = patient_data.EMAILS[0]
    link = share_link(stack, study, [dicom_files.instance(study_uid=study, burned_in="YES")], email)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    problems = watch(page)
    page.goto(link)
    before = count_messages(stack, "email", email)
    page.get_by_role("button", name="Send me a one-time code").click()
    code = re.search(r"\b(\d{6})\b", wait_for_message(stack, "email", email, before)["body"])
    assert code is not None
    page.get_by_label("Code or password").fill(code.group(1))
    page.get_by_role("button", name="Show the images").click()
    page.get_by_label("New password (at least 8 characters)").fill("ett långt lösenord")
    page.get_by_role("button", name="Save the password").click()
    status = page.get_by_role("status")
    expect(status).to_have_text("Your password is saved. Use it the next time you open the link.")
    expect(status).to_be_in_viewport()
    expect(page.get_by_role("button", name="Save the password")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "share-password-saved.png"), full_page=True)
    assert problems == []
    context.close()


def test_a_closed_chat_says_so_where_the_patient_looks(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    visit = start_visit(stack)
    for number in range(12):  # enough to scroll a phone's screen
        assert visit.clinic("POST", "/messages", {"text": f"Meddelande {number}\nmed två rader"}).status_code == 201
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="sv-SE")
    page = context.new_page()
    problems = watch(page)
    page.goto(visit.link)
    expect(page.locator(".message")).to_have_count(12)
    assert page.evaluate("window.scrollY") > 0  # the newest message is on screen, the top is not
    # The composer is in a landmark, and opaque: no message shows through it.
    dock = page.get_by_role("region", name="Skriv ett meddelande")
    expect(dock.locator("#text")).to_be_visible()
    assert dock.evaluate("d => [getComputedStyle(d).backgroundColor, getComputedStyle(d).opacity]") == [
        "rgb(255, 255, 255)",
        "1",
    ]
    assert visit.clinic("POST", "/close").status_code == 200
    notice = dock.get_by_role("status")
    expect(notice).to_have_text("Besöket är avslutat. Inga fler meddelanden kan skickas.", timeout=15_000)
    expect(notice).to_be_in_viewport()
    expect(page.locator("#composer")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "chat-patient-closed-phone.png"))
    assert problems == []
    context.close()


def test_the_outbox_renders_an_email_in_a_sandbox_beside_its_text(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    study = "1.2.826.0.1.3680043.8.498.972"
    link = share_link(stack, study, [dicom_files.instance(study_uid=study)], patient_data.EMAILS[1])
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{stack.base_url}/_local/outbox")
    email = page.locator("article.email").filter(has_text=patient_data.EMAILS[1]).first
    frame = email.locator("iframe")
    assert frame.get_attribute("sandbox") == ""
    rendered = frame.content_frame
    expect(rendered.locator(f'a[href="{link}"]')).to_be_visible()
    assert "<html" not in email.locator("pre").inner_text().lower()  # the plain-text part, not HTML source
    expect(email.locator("pre")).to_contain_text(link)
    email.screenshot(path=str(ARTIFACTS / "outbox-email-rendered.png"))
    assert requests.get(f"{stack.base_url}/_local/outbox", timeout=30).text.count("<iframe sandbox ") >= 1
    assert problems == []
    context.close()
