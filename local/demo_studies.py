"""Two small demo studies the local stack starts with, generated (no patient's data, nothing downloaded):

* an ultrasound image with one ultrasound region and a burned-in band of "text" above it (what the
  anonymizer blanks outside the region, so the patient gets it without a password);
* a short ultrasound cine (24 frames), which the patient's page plays as an MP4.

They go in through the same path as a STOW-RS request (``services.ingest.store_instances``), so the
ingest worker indexes them and makes their thumbnails as it does for any study.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from chalicelib.services import ingest
from chalicelib.services.deps import Deps

#: Made-up people: searchable in the console ("lind", "DEMO-1001").
DEMO_PATIENTS = (
    ("Lind^Maja", "DEMO-1001", "ACC-DEMO-1", "20261118", 1),
    ("Berg^Olof", "DEMO-1002", "ACC-DEMO-2", "20261120", 24),
)
ROWS, COLUMNS = 240, 320
BAND_ROWS = 28  # the burned-in band at the top, outside the ultrasound region


@dataclass(frozen=True)
class DemoStudy:
    """What the demo study is, for the README and the tests."""

    patient_name: str
    patient_id: str
    accession: str
    frames: int
    study_instance_uid: str


def seed_demo_studies(clinic_id: str, deps: Deps) -> list[DemoStudy]:
    """Store the two demo studies for ``clinic_id``; the ingest worker picks them up."""
    from pydicom.uid import generate_uid

    seeded = []
    for name, patient_id, accession, date, frames in DEMO_PATIENTS:
        study_uid = generate_uid()
        part10 = _instance(name, patient_id, accession, date, frames, study_uid)
        ingest.store_instances(clinic_id, [part10], deps)
        seeded.append(DemoStudy(name, patient_id, accession, frames, study_uid))
    return seeded


def _instance(name: str, patient_id: str, accession: str, date: str, frames: int, study_uid: str) -> bytes:
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import (
        ExplicitVRLittleEndian,
        UltrasoundImageStorage,
        UltrasoundMultiFrameImageStorage,
        generate_uid,
    )

    ds = Dataset()
    ds.SOPClassUID = UltrasoundMultiFrameImageStorage if frames > 1 else UltrasoundImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = name, patient_id, "19800101", "O"
    ds.StudyDate, ds.StudyTime, ds.AccessionNumber = date, "101500", accession
    ds.StudyDescription = "Ultraljud buk (demo)" if frames == 1 else "Ultraljud hjärta (demo)"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "US", 1, 1
    ds.Manufacturer = "patient-share demo"
    ds.BurnedInAnnotation = "YES"
    region = Dataset()
    region.RegionSpatialFormat, region.RegionDataType, region.RegionFlags = 1, 1, 0
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, BAND_ROWS
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = COLUMNS - 1, ROWS - 1
    ds.SequenceOfUltrasoundRegions = [region]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if frames > 1:
        ds.NumberOfFrames, ds.FrameTime, ds.CineRate = frames, 40.0, 25
    y, x = np.mgrid[0:ROWS, 0:COLUMNS]
    movie = np.zeros((frames, ROWS, COLUMNS, 3), dtype=np.uint8)
    for f in range(frames):
        # A speckled fan with a bright structure that moves from frame to frame.
        fan = ((x - COLUMNS / 2) ** 2 + (y - BAND_ROWS) ** 2) < (ROWS - BAND_ROWS) ** 2
        speckle = np.random.default_rng(f).integers(20, 90, (ROWS, COLUMNS))
        blob = ((x - COLUMNS / 2 - 40 * np.sin(f / 4)) ** 2 + (y - ROWS * 0.6) ** 2) < 30**2
        gray = np.where(fan, speckle, 0) + np.where(blob, 140, 0)
        movie[f] = np.clip(gray, 0, 255)[..., None]
    for i in range(12):  # the burned-in "text": bright blocks in the band, as a device prints its labels
        movie[:, 8:20, 10 + i * 24 : 26 + i * 24] = 230
    ds.PixelData = movie.tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()
