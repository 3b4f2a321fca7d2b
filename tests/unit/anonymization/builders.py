"""Small synthetic instances for the anonymization tests, with the patient values of ``tests/patient_data``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, UltrasoundMultiFrameImageStorage

from tests import patient_data
from tests.dicom_files import to_bytes

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))

STUDY_UID = "1.2.826.0.1.3680043.8.498.1001"
SERIES_UID = "1.2.826.0.1.3680043.8.498.1002"
SOP_UID = "1.2.826.0.1.3680043.8.498.1003"
FRAME_OF_REFERENCE_UID = "1.2.826.0.1.3680043.8.498.1004"
INSTITUTION = "Kvarngardens Vardcentral"
PHYSICIAN = "Doktorsson^Dora"


def identify(ds: Dataset, *, sop_class: str, sop_uid: str = SOP_UID) -> Dataset:
    """Give ``ds`` a patient, a study, a series and the usual identifying attributes."""
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = SERIES_UID
    ds.FrameOfReferenceUID = FRAME_OF_REFERENCE_UID
    ds.PatientName = patient_data.PATIENT_NAMES[2]
    ds.PatientID = patient_data.PATIENT_IDS[1]
    ds.PatientBirthDate = "19560412"
    ds.PatientSex = "F"
    ds.PatientAge = "069Y"
    ds.PatientTelephoneNumbers = patient_data.PHONES[0]
    ds.StudyDate = "20250314"
    ds.SeriesDate = "20250314"
    ds.ContentDate = "20250314"
    ds.StudyTime = "101500"
    ds.AccessionNumber = "ACC-778812"
    ds.StudyID = "ST-4471"
    ds.InstitutionName = INSTITUTION
    ds.StationName = "US-ROOM-7"
    ds.DeviceSerialNumber = "SN-99812"
    ds.ReferringPhysicianName = PHYSICIAN
    ds.OperatorsName = "Operatorsson^Olle"
    ds.StudyDescription = "CT THORAX with contrast " + patient_data.PHONES[1]
    ds.SeriesDescription = "AXIAL 5mm"
    ds.Manufacturer = "ACME Imaging"
    ds.SeriesNumber = 3
    ds.InstanceNumber = 1
    return ds


def ct_slice(*, rows: int = 16, columns: int = 16, sop_uid: str = SOP_UID) -> Dataset:
    """A small 16-bit CT slice."""
    ds = identify(Dataset(), sop_class=CTImageStorage, sop_uid=sop_uid)
    ds.Modality = "CT"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = (np.arange(rows * columns, dtype="<u2") % 4096).tobytes()
    return ds


def us_cine(
    *,
    frames: int = 3,
    rows: int = 40,
    columns: int = 60,
    regions: tuple[tuple[int, int, int, int], ...] = ((10, 5, 49, 34),),
    burned_in: str | None = "YES",
) -> Dataset:
    """A multi-frame RGB ultrasound whose pixels differ per frame and are non-zero everywhere.

    ``regions`` are (min x, min y, max x, max y) of 2D tissue regions in the Sequence of Ultrasound Regions.
    """
    ds = identify(Dataset(), sop_class=UltrasoundMultiFrameImageStorage)
    ds.Modality = "US"
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = frames
    ds.FrameTime = 33.3
    if burned_in is not None:
        ds.BurnedInAnnotation = burned_in
    items = []
    for min_x, min_y, max_x, max_y in regions:
        item = Dataset()
        item.RegionSpatialFormat = 1
        item.RegionDataType = 1
        item.RegionFlags = 0
        item.RegionLocationMinX0, item.RegionLocationMinY0 = min_x, min_y
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = max_x, max_y
        items.append(item)
    if items:
        ds.SequenceOfUltrasoundRegions = items
    ds.PixelData = cine_pixels(frames, rows, columns).tobytes()
    return ds


def cine_pixels(frames: int, rows: int, columns: int) -> np.ndarray:
    """Pixels in 1..255 that differ from frame to frame."""
    f, y, x, s = np.indices((frames, rows, columns, 3))
    return ((f * 37 + y * 5 + x * 3 + s * 11) % 255 + 1).astype(np.uint8)


def write(ds: Dataset, path: Path, transfer_syntax: str = ExplicitVRLittleEndian) -> Path:
    """Write ``ds`` as a Part 10 file at ``path`` (compressing its pixels for a compressed syntax)."""
    if UID(transfer_syntax).is_compressed:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.compress(transfer_syntax)
    path.write_bytes(to_bytes(ds, transfer_syntax))
    return path


def real_file(name: str) -> Path:
    """A file shipped with pydicom or with pydicom-data (a development requirement), never downloaded."""
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is in neither pydicom nor pydicom-data"
    return Path(path)


def read(path: Path) -> FileDataset:
    """Read a whole Part 10 file."""
    return dcmread(path)
