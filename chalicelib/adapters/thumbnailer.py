"""Thumbnailer on the media library (decodes only the first frame; numpy/Pillow load lazily)."""

from __future__ import annotations

from typing import BinaryIO


class DicomThumbnailer:
    """Renders a clinic-screen thumbnail of a DICOM stream."""

    def render(self, source: BinaryIO) -> bytes | None:
        """The thumbnail, or None when the instance has no image or its pixels cannot be decoded.

        An undecodable image is the file's fault, not a fault a retry could clear: raising would send
        the ingest message round until it is dead-lettered, for an instance that is already indexed.
        """
        from chalicelib.media.dicom_render import thumbnail
        from chalicelib.media.errors import MediaError

        try:
            return thumbnail(source)
        except MediaError:
            return None
