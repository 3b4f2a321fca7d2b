from __future__ import annotations

import re

import pytest

from chalicelib.media.attachment_types import (
    ALLOWED_TYPES,
    EXTENSIONS,
    MAX_ATTACHMENT_BYTES,
    classify_declared,
    extension_of,
    family_of,
    is_allowed,
)

# What Windows runs, opens with a scripting host or an installer, when such a file is opened (PATHEXT and
# the usual suspects): no type we serve may carry one.
RUNNABLE = {
    ".bat", ".cmd", ".com", ".cpl", ".exe", ".hta", ".jar", ".js", ".jse", ".lnk", ".msc", ".msi", ".msp",
    ".pif", ".ps1", ".reg", ".scr", ".sh", ".url", ".vb", ".vbe", ".vbs", ".ws", ".wsc", ".wsf", ".wsh",
    ".html", ".htm", ".svg", ".xml", ".docm", ".xlsm", ".pptm",
}  # fmt: skip


def test_the_size_limit_is_ten_mebibytes() -> None:
    assert MAX_ATTACHMENT_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("declared", "family"),
    [
        ("image/jpeg", "image"),
        ("IMAGE/JPEG", "image"),
        ("image/jpg", "image"),
        ("image/heic", "image"),
        ("image/webp", "image"),
        ("video/mp4", "video"),
        ("video/quicktime", "video"),
        ("video/webm", "video"),
        ("application/pdf", "document"),
        ("text/plain; charset=utf-8", "document"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
        ("application/vnd.oasis.opendocument.spreadsheet", "document"),
        ("application/msword", "document"),
        ("text/rtf", "document"),
    ],
)
def test_declared_types_on_the_list(declared: str, family: str) -> None:
    assert classify_declared(declared) == family


@pytest.mark.parametrize(
    "declared",
    [
        "audio/mpeg",
        "audio/wav",
        "audio/ogg; codecs=opus",
        "audio/mp4",
        "audio/webm",
        "application/zip",
        "application/octet-stream",
        "text/html",
        "image/svg+xml",
        "video/x-matroska",
        "application/vnd.ms-word.document.macroEnabled.12",
        "",
    ],
)
def test_declared_types_refused(declared: str) -> None:
    assert classify_declared(declared) is None


def test_no_audio_type_is_on_the_allow_list() -> None:
    assert not [mime for mime in ALLOWED_TYPES if mime.startswith("audio/")]


@pytest.mark.parametrize(
    ("mime", "family", "allowed"),
    [
        ("image/png", "image", True),
        ("audio/flac", "audio", False),
        ("audio/x-anything", "audio", False),
        ("application/zip", "other", False),
        ("video/x-msvideo", "other", False),
    ],
)
def test_family_of_sniffed_types(mime: str, family: str, allowed: bool) -> None:
    assert family_of(mime) == family
    assert is_allowed(family_of(mime)) is allowed


def test_every_allowed_type_is_served_under_one_extension_of_its_own() -> None:
    assert EXTENSIONS.keys() == ALLOWED_TYPES.keys()
    extensions = list(EXTENSIONS.values())
    assert len(set(extensions)) == len(extensions), "an extension must name one type"
    for mime, extension in EXTENSIONS.items():
        assert re.fullmatch(r"\.[a-z0-9]{2,5}", extension), mime
        assert extension not in RUNNABLE, mime


@pytest.mark.parametrize(
    ("mime", "extension"),
    [("text/plain", ".txt"), ("TEXT/PLAIN; charset=utf-8", ".txt"), ("image/jpeg", ".jpg"), ("video/quicktime", ".mov"),
     ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")],
)  # fmt: skip
def test_extension_of_a_served_type(mime: str, extension: str) -> None:
    assert extension_of(mime) == extension


def test_a_type_off_the_list_has_no_extension() -> None:
    with pytest.raises(KeyError):
        extension_of("text/html")
