"""The inputs the media functions accept: a local path or an open binary file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, TypeAlias

LocalPath: TypeAlias = str | os.PathLike[str]
Source: TypeAlias = str | os.PathLike[str] | BinaryIO

# Files larger than this spill from memory to /tmp when a non-seekable stream must be buffered.
_SPOOL_IN_MEMORY_BYTES = 16 * 1024 * 1024


@contextmanager
def open_source(src: Source) -> Iterator[BinaryIO]:
    """Yield a seekable binary file positioned at the start of `src`.

    A path is opened here and closed on exit. A file object is rewound and left open for the caller;
    one that cannot seek (a network stream) is first copied into a spooled temporary file, because
    DICOM and container parsers jump around in the file.
    """
    if isinstance(src, str | os.PathLike):
        with open(src, "rb") as file:
            yield file
        return
    if _seekable(src):
        src.seek(0)
        yield src
        return
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES) as spooled:
        shutil.copyfileobj(src, spooled)
        spooled.seek(0)
        yield spooled  # type: ignore[misc]


def _seekable(file: BinaryIO) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, OSError, ValueError):
        return False
