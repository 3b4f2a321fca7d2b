"""Every text a patient sees is in their language: each state of the patient's pages, each refusal and each
message they are sent, rendered in Swedish and in English, holds no phrase of the other language and no
domain error's English ``message``."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api import refusals
from chalicelib.api.chat import _strings
from chalicelib.domain.accounts import InvalidDailyLimit, InvalidLinkCode, SendingQuotaExceeded
from chalicelib.domain.contacts import InvalidCountry
from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)
from chalicelib.domain.shares import (
    InvalidLanguage,
    InvalidLifetime,
    LinkExpired,
    LinkLocked,
    SharedFile,
    StillPreparing,
    TooManyCodes,
    WrongSecret,
)
from chalicelib.domain.staff import InvalidRole, InvalidStaffEmail, OwnAccount, StaffExists
from chalicelib.media.structured_report import ContentItem, StructuredReport
from chalicelib.services.landing import About, FileLink
from chalicelib.templating import file_size, render

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
_PAIR = re.compile(r't\(\s*"((?:[^"\\]|\\.)*)"\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)')
_RAISED = re.compile(r'raise \w+\(\s*f?"([^"{]+)')

#: One refusal of each kind the patient's and the console's pages word.
ERRORS: list[DomainError] = [
    WrongSecret("That code or password is not right"),
    LinkLocked(NOW.replace(minute=15), NOW),
    TooManyCodes("A code was sent three times in the last hour; use the latest one or try later", 1800),
    SendingQuotaExceeded(10, NOW),
    StillPreparing("The share is still being prepared"),
    # The console's settings, each refusal a kind of its own.
    InvalidLinkCode("The link code must be 4 to 32 characters"),
    InvalidDailyLimit("'daily_message_limit' must be a whole number from 1 to 20000"),
    InvalidLifetime("The link lifetime must be 1 to 365 days"),
    InvalidLanguage("'language' must be 'sv' or 'en'"),
    InvalidCountry("'country' must be a two-letter country code such as SE"),
    InvalidRole("role must be one of admin, clinician"),
    InvalidStaffEmail("'email' is not a valid e-mail address"),
    StaffExists("A staff member with this e-mail address exists"),
    OwnAccount("You cannot disable or enable yourself"),
    TooManyRequests("Slow down", 60),
    LinkExpired("This link has expired"),
    NotFound("No such share"),
    Conflict("Changed meanwhile"),
    Unauthenticated("Sign in again"),
    Forbidden("Not yours"),
    InvalidInput("Bad field"),
    Unavailable("Try later", 30),
    DomainError("Something else"),
]


def _phrases(text: str) -> list[str]:
    """The literal runs of three or more words of a template string (placeholders split it)."""
    runs = re.split(r"\{[a-z_]+\}|~", text.replace("\\'", "'"))
    return [run.strip(" .,:;()") for run in runs if len(run.split()) >= 3]


@cache
def _catalogue() -> tuple[tuple[str, str], ...]:
    """Every (Swedish, English) pair of words: the templates' ``t(...)``, the refusals and the chat's words."""
    found: list[tuple[str, str]] = []
    for path in ROOT.joinpath("templates").iterdir():
        found += [(sv, en) for sv, en in _PAIR.findall(path.read_text(encoding="utf-8"))]
    found += list(refusals.WORDS.values())
    sv, en = _strings("sv"), _strings("en")
    found += [(sv[key], en[key]) for key in sv]
    return tuple((s, e) for s, e in found if s != e)


@cache
def _domain_messages() -> tuple[str, ...]:
    """The English messages domain and service code raise (for logs and API clients, never for pages)."""
    messages = []
    for folder in ("domain", "services"):
        for path in ROOT.joinpath(folder).rglob("*.py"):
            messages += [m.strip(" ;:,.") for m in _RAISED.findall(path.read_text(encoding="utf-8"))]
    return tuple(m for m in messages if len(m.split()) >= 3)


def foreign(text: str, lang: str) -> list[str]:
    """The phrases of the other language (or the domain's English) found in ``text``, rendered in ``lang``."""
    pairs = _catalogue()
    own = {phrase for pair in pairs for phrase in _phrases(pair[0 if lang == "sv" else 1])}
    other = {phrase for pair in pairs for phrase in _phrases(pair[1 if lang == "sv" else 0])} - own
    if lang == "sv":
        other |= set(_domain_messages())
    plain = html.unescape(text)
    return sorted(phrase for phrase in other if phrase in plain)


def _file(index: int, kind: str, name: str, mime: str, size: int) -> FileLink:
    return FileLink(SharedFile(f"shares/sh_1/{name}", name, kind, mime, size), f"https://b.example/{name}", index)


FILES = [
    _file(0, "image", "image-001.jpg", "image/jpeg", 120_000),
    _file(1, "video", "cine-002.mp4", "video/mp4", 2_500_000),
    _file(2, "document", "report-003.pdf", "application/pdf", 40_000),
    _file(3, "dicom", "DICOM/IM0001.dcm", "application/dicom", 800_000),
]
ZIP = _file(4, "zip", "images.zip", "application/zip", 3_600_000)
OPEN = {
    "state": "open",
    "token": "tok",
    "clinic_name": "Kliniken",
    "files": FILES,
    "zip": ZIP,
    "expires_on": "2027-02-21",
    "about": About("2026-11-20", "US ABDOMEN"),
    "may_choose_password": True,
    "saved": False,
}
REPORT = StructuredReport(
    "Diagnostic imaging report",
    (
        ContentItem(
            "Findings",
            "CONTAINER",
            "",
            (
                ContentItem("Finding", "TEXT", "Liver of normal size."),
                ContentItem("Length", "NUM", "42.5 mm"),
                ContentItem("", "IMAGE", ""),
                ContentItem("Group", "CONTAINER", "", (ContentItem("Finding", "CODE", "Normal"),)),
            ),
        ),
    ),
)
LOCKED = {"state": "locked", "token": "tok", "clinic_name": "Kliniken", "sent": False, "error": None}


def _page_states(lang: str) -> list[tuple[str, dict[str, Any]]]:
    """Every state of every patient page, with every refusal worded in ``lang``."""
    states: list[tuple[str, dict[str, Any]]] = [
        ("share_page.html", {"state": "preparing", "clinic_name": "Kliniken", "token": "tok"}),
        ("share_page.html", {**OPEN, "error": None}),
        ("share_page.html", {**OPEN, "error": refusals.worded("password_short", lang)}),
        ("share_page.html", {**OPEN, "files": FILES[2:], "about": About("", ""), "error": None}),
        ("share_gone.html", {"expired": True}),
        ("share_gone.html", {"expired": False}),
    ]
    for lock, step, steps in (("link_code", 1, 1), ("link_code", 1, 2), ("password", 2, 2), ("password", 1, 1)):
        states.append(("share_page.html", {**LOCKED, "lock": lock, "step": step, "steps": steps, "sent": True}))
        for err in ERRORS:
            worded = refusals.refusal(err, lang)
            states.append(("share_page.html", {**LOCKED, "lock": lock, "step": step, "steps": steps, "error": worded}))
        states.append(
            (
                "share_page.html",
                {**LOCKED, "lock": lock, "step": step, "steps": steps, "error": refusals.worded("no_codes", lang)},
            )
        )
    states += [("chat_error.html", {"reason": reason}) for reason in ("ended", "session", "unknown")]
    states += [("share_report.html", {"report": REPORT, "clinic_name": "Kliniken"})]
    states += [("share_report.html", {"report": StructuredReport("", ()), "clinic_name": ""})]
    return states


def _messages() -> list[tuple[str, dict[str, Any]]]:
    """Every e-mail (subject, text, HTML) and text message a patient is sent, for each kind of lock."""
    link = {"clinic_name": "Kliniken", "link": "https://share.example.test/p/tok", "expires_on": "2027-02-21"}
    sent = []
    for lock in (None, "link_code", "password", "both"):
        sent += [
            (f"share_{part}", {**link, "lock": lock}) for part in ("subject.txt", "email.txt", "email.html", "sms.txt")
        ]
    code = {"clinic_name": "Kliniken", "code": "123456"}
    sent += [(f"share_code_{part}", code) for part in ("subject.txt", "email.txt", "email.html", "sms.txt")]
    visit = {"clinic_name": "Kliniken", "link": "https://share.example.test/v/tok"}
    sent += [(f"visit_{part}", visit) for part in ("subject.txt", "email.txt", "email.html", "sms.txt")]
    sent += [("share_report_subtitle.txt", {})]  # the report PDF's subtitle
    return sent


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_patient_page_state_and_refusal_is_in_one_language(lang: str) -> None:
    found = {
        f"{template} {context.get('state', '')} {context.get('error') or ''}": foreign(
            render(template, lang, **context), lang
        )
        for template, context in _page_states(lang)
    }
    assert {state: phrases for state, phrases in found.items() if phrases} == {}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_message_a_patient_is_sent_is_in_one_language(lang: str) -> None:
    found = {f"{t} {c.get('lock')}": foreign(render(t, lang, **c), lang) for t, c in _messages()}
    assert {message: phrases for message, phrases in found.items() if phrases} == {}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_refusal_has_words_in_both_languages_and_never_the_domains_english(lang: str) -> None:
    for err in ERRORS:
        worded = refusals.refusal(err, lang)
        assert worded
        assert lang == "en" or err.message not in worded
        assert refusals.kind_of(err) != "invalid" or type(err) is InvalidInput  # each settings refusal its own
        assert foreign(worded, lang) == []
    assert set(refusals.WORDS) >= {kind for _, kind in refusals.KINDS}


def test_the_catalogue_check_finds_english_on_a_swedish_page() -> None:
    # The check itself can fail: the domain's English and an English phrase are both caught.
    assert foreign("<p>That code or password is not right</p>", "sv") != []
    assert foreign("<p>Bilderna förbereds. Sidan uppdateras av sig själv om en liten stund.</p>", "en") != []


def test_sizes_are_written_as_each_language_writes_numbers() -> None:
    assert (file_size(2_516_582, "sv"), file_size(2_516_582, "en")) == ("2,4 MB", "2.4 MB")
    assert (file_size(870_000, "sv"), file_size(10, "en")) == ("850 kB", "1 kB")
    assert file_size(5 * 1024**3, "sv") == "5,0 GB"


@pytest.mark.parametrize(("lang", "words"), [("sv", ("Rapport", "En bild")), ("en", ("Report", "A picture"))])
def test_a_report_page_shows_headings_and_values_in_the_patients_language(lang: str, words: tuple[str, str]) -> None:
    page = render("share_report.html", lang, report=REPORT, clinic_name="Kliniken")
    assert "<h1>Diagnostic imaging report</h1>" in page
    assert "<h2>Findings</h2>" in page
    assert "<h3>Group</h3>" in page  # a container inside a container is a heading one level down
    assert "<dt>Length</dt>\n  <dd>42.5 mm</dd>" in page
    assert words[1] in page
    untitled = render("share_report.html", lang, report=StructuredReport("", ()), clinic_name="")
    assert f"<h1>{words[0]}</h1>" in untitled


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_page_scripts_word_a_refusal_in_the_pages_language_never_the_services_english(lang: str) -> None:
    from chalicelib.api.console_upload import _strings as upload_words

    assert upload_words(lang)["refused"] == refusals.worded("refused", lang)
    assert foreign(" ".join(upload_words(lang).values()), lang) == []
    assert foreign(" ".join(_strings(lang).values()), lang) == []
    scripts = ROOT / "static"
    assert "data.Message" not in (scripts / "console_upload.js").read_text()
    assert "notice(error.message)" not in (scripts / "chat.js").read_text()
