"""Jinja2 pages and e-mails, in Swedish and English, with autoescape always on.

Templates live in ``chalicelib/templates/``; each takes ``lang`` ("sv" or "en") and picks its words
with ``t(sv, en)``, and words a number of bytes with ``size(n)`` ("2,4 MB" / "2.4 MB"). Jinja2 loads on the
first render, so a Lambda that never renders never pays for it.
"""

from __future__ import annotations

import functools
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

LANGUAGES = ("sv", "en")


def render(template: str, lang: str, **context: Any) -> str:
    """Render ``template`` in ``lang`` (autoescaped: every value is text, never markup).

    Every page gets ``base`` (the path the service is mounted under, empty for a domain of its own) and
    ``assets`` (where its style sheets and scripts are), so no template hard-codes a path from the root.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    base = _base_path()
    site = {"base": base, "assets": f"{base}/assets"}
    words = {"lang": lang, "t": _words(lang), "size": functools.partial(file_size, lang=lang)}
    return _environment().get_template(template).render(**words, **{**site, **context})


def _base_path() -> str:
    from urllib.parse import urlparse

    from chalicelib.settings import settings

    return urlparse(settings().public_base_url).path.rstrip("/")


def preferred_language(accept_language: str | None, fallback: str) -> str:
    """The first of our languages the browser asks for (``Accept-Language``), else ``fallback``."""
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and quality > 0:
            ranked.append((quality, language))
    ranked.sort(key=lambda pair: -pair[0])
    return ranked[0][1] if ranked else fallback


def _words(lang: str) -> Any:
    def t(sv: str, en: str) -> str:
        return sv if lang == "sv" else en

    return t


def file_size(size: int, lang: str) -> str:
    """A file's size as a person reads it in ``lang``: "850 kB", "2,4 MB" (sv) or "2.4 MB" (en)."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} kB"
    megabytes = size / (1024 * 1024)
    number, unit = (megabytes / 1024, "GB") if megabytes >= 1024 else (megabytes, "MB")
    text = f"{number:.1f}"
    return f"{text.replace('.', ',') if lang == 'sv' else text} {unit}"


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    from chalicelib.domain.studies import display_date, display_name

    # Escaping is on for everything but plain-text e-mail bodies (.txt), where "&amp;" would be wrong.
    environment = Environment(
        loader=PackageLoader("chalicelib", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # One way every page shows a DICOM person name and date as people read them.
    environment.filters["person_name"] = display_name
    environment.filters["dicom_date"] = display_date
    return environment
