"""No metadata left in JPEG frames: APPn (but JFIF and Adobe) and COM segments go, byte-wise, the image stays."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEGBaseline8Bit, UltrasoundImageStorage

from chalicelib.domain.anonymization import NotDicom, anonymize_file
from chalicelib.domain.anonymization.jpeg_segments import strip_metadata_segments
from tests import patient_data
from tests.dicom_files import to_bytes
from tests.unit.anonymization.builders import KEY, identify, read

NAME = patient_data.PATIENT_NAMES[0].replace("^", " ")
SERIAL = "SN-EXIF-99812"


def picture() -> np.ndarray:
    y, x = np.indices((48, 64))
    return np.stack([(x * 4) % 256, (y * 5) % 256, ((x + y) * 3) % 256], axis=-1).astype(np.uint8)


def jpeg_with_metadata(*, progressive: bool = False) -> bytes:
    """A JPEG whose EXIF (APP1) holds a serial number and whose COM holds a patient's name."""
    exif = Image.Exif()
    exif[0xA431] = SERIAL  # BodySerialNumber
    exif[0x010E] = f"Patient {NAME}"  # ImageDescription
    out = io.BytesIO()
    Image.fromarray(picture()).save(
        out, "JPEG", quality=90, exif=exif.tobytes(), comment=f"Patient {NAME}".encode(), progressive=progressive
    )
    return out.getvalue()


def markers(jpeg: bytes) -> list[int]:
    """The markers of the segments before the first scan, in order."""
    found, position = [], 2
    while jpeg[position + 1] != 0xDA:
        found.append(jpeg[position + 1])
        position += 2 + int.from_bytes(jpeg[position + 2 : position + 4], "big")
    return found


def test_app_and_comment_segments_go_and_the_image_is_untouched() -> None:
    original = jpeg_with_metadata()
    assert {0xE1, 0xFE} <= set(markers(original))  # EXIF and the comment are there to begin with
    stripped = strip_metadata_segments(original)
    assert NAME.encode() not in stripped
    assert SERIAL.encode() not in stripped
    assert 0xE1 not in markers(stripped)
    assert 0xFE not in markers(stripped)
    assert markers(stripped)[0] == 0xE0  # JFIF stays: it says how to read the colours
    scan = original.index(b"\xff\xda")
    assert stripped.endswith(original[scan:])  # the scan, byte for byte: nothing was encoded again
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(stripped))), np.asarray(Image.open(io.BytesIO(original))))


def test_segments_between_the_scans_of_a_progressive_jpeg_go_too() -> None:
    original = jpeg_with_metadata(progressive=True)
    second_scan = original.index(b"\xff\xda", original.index(b"\xff\xda") + 2)
    comment = b"\xff\xfe" + (len(NAME) + 2).to_bytes(2, "big") + NAME.encode()
    with_comment = original[:second_scan] + comment + original[second_scan:]
    stripped = strip_metadata_segments(with_comment)
    assert NAME.encode() not in stripped
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(stripped))), np.asarray(Image.open(io.BytesIO(original))))


def test_the_adobe_segment_stays() -> None:
    adobe = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00"
    original = jpeg_with_metadata()
    with_adobe = original[:2] + adobe + original[2:]
    assert adobe in strip_metadata_segments(with_adobe)


@pytest.mark.parametrize("frame", [b"not a jpeg at all", b"\xff\xd8\xff\xe1\xff\xff"])
def test_a_frame_that_is_not_a_jpeg_stream_is_refused(frame: bytes) -> None:
    with pytest.raises(NotDicom):
        strip_metadata_segments(frame)


def test_an_instance_whose_jpeg_frames_carry_exif_and_a_comment_comes_out_without_them(tmp_path: Path) -> None:
    frame = jpeg_with_metadata()
    ds = identify(Dataset(), sop_class=UltrasoundImageStorage)
    ds.Modality = "US"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "YBR_FULL_422", 0
    ds.Rows, ds.Columns = 48, 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.BurnedInAnnotation = "NO"  # no cleaning: the frames are copied, only their metadata goes
    ds.LossyImageCompression = "01"
    ds.PixelData = encapsulate([frame])
    source = tmp_path / "in.dcm"
    source.write_bytes(to_bytes(ds, JPEGBaseline8Bit))
    assert NAME.encode() in source.read_bytes()

    report = anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    assert (report.anonymizable, report.pixels_cleaned) == (True, False)
    written = (tmp_path / "out.dcm").read_bytes()
    assert NAME.encode() not in written
    assert SERIAL.encode() not in written
    out = read(tmp_path / "out.dcm")
    (copied,) = generate_frames(out.PixelData, number_of_frames=1)
    assert copied.rstrip(b"\0") == strip_metadata_segments(frame)
    assert np.array_equal(out.pixel_array, read(source).pixel_array)
