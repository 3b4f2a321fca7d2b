"""The thumbnailer adapter: an image it cannot decode has no thumbnail; it is not a fault to retry."""

from __future__ import annotations

import io

from chalicelib.adapters.thumbnailer import DicomThumbnailer
from tests import dicom_files


def test_an_undecodable_first_frame_has_no_thumbnail() -> None:
    garbage = dicom_files.claiming(rows=48, columns=64, codestream=(64, 48))  # a SIZ marker and nothing else
    assert DicomThumbnailer().render(io.BytesIO(garbage)) is None


def test_a_decodable_frame_has_one() -> None:
    jpeg = DicomThumbnailer().render(io.BytesIO(dicom_files.instance()))
    assert jpeg is not None
    assert jpeg.startswith(b"\xff\xd8")
