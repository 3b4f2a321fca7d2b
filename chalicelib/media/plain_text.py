"""The conservative rule for "this is plain text".

Text is accepted only when every byte decodes as UTF-8 (a byte-order mark is allowed), with no NUL
and no control character other than tab, line feed, carriage return and form feed. Anything that
opens like markup (``<`` as the first non-blank character: HTML, SVG, XML) is not plain text: a
browser could render it, scripts included. UTF-16 text is refused (it is full of NULs and cannot be
told from binary reliably); people save chat documents as UTF-8 or as PDF/Office files.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO, Literal

TextKind = Literal["text/plain", "text/markup"]

_CHUNK_BYTES = 64 * 1024
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def text_kind(file: BinaryIO) -> TextKind | None:
    """Classify a whole file: "text/plain", "text/markup" (text opening with <), or None if not text."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    first_visible: str | None = None
    seen_any = False
    file.seek(0)
    while chunk := file.read(_CHUNK_BYTES):
        seen_any = True
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError:
            return None
        if _FORBIDDEN.search(text):
            return None
        if first_visible is None and (stripped := text.lstrip()):
            first_visible = stripped[0]
    try:
        decoder.decode(b"", final=True)  # a multi-byte character cut off at the end is not text
    except UnicodeDecodeError:
        return None
    if not seen_any:
        return None
    return "text/markup" if first_visible == "<" else "text/plain"
