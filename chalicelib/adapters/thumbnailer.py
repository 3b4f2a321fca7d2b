"""Thumbnailer on the media library (decodes only the first frame; numpy/Pillow load lazily)."""

from __future__ import annotations

from typing import BinaryIO


class DicomThumbnailer:
    """Renders a clinic-screen thumbnail of a DICOM stream."""

    def render(self, source: BinaryIO) -> bytes | None:
        from chalicelib.media.dicom_render import thumbnail

        return thumbnail(source)
