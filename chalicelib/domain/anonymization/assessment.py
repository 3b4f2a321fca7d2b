"""Decide, from the header alone, whether an instance can be shared and what its pixels need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from chalicelib.domain.anonymization.areas import Rectangle, Region, outside
from chalicelib.domain.anonymization.layouts import layout_for
from chalicelib.domain.anonymization.options import PATIENT_SHARE_OPTIONS, Option, Options
from chalicelib.domain.anonymization.quiet import pydicom_silenced
from chalicelib.domain.anonymization.report import CleaningMethod, Reason, ReasonCode, Report
from chalicelib.domain.anonymization.sop_classes import SUPPORTED, refused_family
from chalicelib.media.dicom_file import can_decode

# Region Spatial Format (0018,6012) values that hold image data: 2D, M-mode, spectral, waveform. Regions
# of format 0 (none) and 5 (graphics) are where a scanner puts its own text, so they are blanked too.
_DATA_REGION_FORMATS: Final = frozenset({1, 2, 3, 4})
# Pixel layouts the frame-by-frame cleaner can write back natively.
_REWRITABLE_PHOTOMETRIC: Final = frozenset(
    {"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT", "PALETTE COLOR"}
)


_REGION_BOUNDS: Final = ("RegionLocationMinX0", "RegionLocationMinY0", "RegionLocationMaxX1", "RegionLocationMaxY1")


@dataclass(frozen=True)
class Plan:
    """The report, and the rectangles to blank when the pixels must be cleaned (empty when they need not)."""

    report: Report
    blank: tuple[Rectangle, ...] = ()


def assess(dataset: Dataset, options: Options = PATIENT_SHARE_OPTIONS) -> Report:
    """Whether ``dataset`` (its header is enough) can be de-identified with ``options``, and why.

    Nothing is written. ``pixels_cleaned`` in the report means the pixels will need cleaning.
    """
    with pydicom_silenced():
        return plan(dataset, options).report


def plan(dataset: Dataset, options: Options) -> Plan:
    """The verdict on ``dataset`` and, when its pixels must be cleaned, the rectangles to blank: those outside
    its ultrasound regions, or, when it has no usable regions, those of its device's known screen layout."""
    file_meta = getattr(dataset, "file_meta", Dataset())
    sop_class_uid = str(dataset.get("SOPClassUID") or file_meta.get("MediaStorageSOPClassUID") or "").strip()
    if not sop_class_uid:
        return _refuse(ReasonCode.MISSING_SOP_CLASS, "The instance does not say what kind of object it is.")
    family = refused_family(sop_class_uid)
    sop_class = SUPPORTED.get(sop_class_uid)
    if family is not None or sop_class is None:
        name = UID(sop_class_uid).name if UID(sop_class_uid).is_valid else "an unrecognised SOP class"
        return _refuse(
            family or ReasonCode.UNSUPPORTED_SOP_CLASS,
            f"{name} is not one of the image types we know how to de-identify.",
        )
    if not (dataset.get("SOPInstanceUID") or file_meta.get("MediaStorageSOPInstanceUID")):
        return _refuse(ReasonCode.MISSING_SOP_INSTANCE_UID, "The instance has no SOP Instance UID.")
    if not str(dataset.get("StudyInstanceUID") or "").strip():
        return _refuse(ReasonCode.MISSING_STUDY_INSTANCE_UID, "The instance has no Study Instance UID.")
    supported = Reason(ReasonCode.SUPPORTED_SOP_CLASS, f"{sop_class.name} is a supported image type.")

    burned_in = str(dataset.get("BurnedInAnnotation") or "").strip().upper()
    if burned_in == "NO" or (burned_in != "YES" and not sop_class.burns_in_text):
        text = (
            "The header says no text is burned into the pixels."
            if burned_in == "NO"
            else f"{sop_class.name} instances do not normally have text burned into the pixels."
        )
        return Plan(Report(True, False, (supported, Reason(ReasonCode.NO_BURNED_IN_ANNOTATION, text))))
    if not sop_class.us_regions:
        if burned_in == "YES":
            return _refuse(ReasonCode.BURNED_IN_ANNOTATION, "Text is burned into the pixels; we cannot remove it.")
        return _refuse(
            ReasonCode.BURNED_IN_ANNOTATION_UNKNOWN,
            f"{sop_class.name} usually has text burned into the pixels and the header does not say otherwise.",
        )
    if Option.CLEAN_PIXEL_DATA not in options:
        return _refuse(
            ReasonCode.CLEAN_PIXEL_DATA_NOT_SELECTED,
            "The pixels may hold burned-in text and Clean Pixel Data was not selected.",
        )
    regions = keep_regions(dataset)
    layout = None if regions else layout_for(dataset)
    if not regions and layout is None:
        return _refuse(
            ReasonCode.NO_USABLE_US_REGIONS,
            "The pixels may hold burned-in text, no ultrasound region that fits the image says where the scan is,"
            " and the device is not in our table of known screen layouts.",
        )
    if not _rewritable(dataset, file_meta):
        return _refuse(
            ReasonCode.PIXEL_DATA_NOT_DECODABLE,
            "The pixels may hold burned-in text and their encoding is one we cannot rewrite.",
        )
    if layout is not None:
        cleaned = Reason(
            ReasonCode.LAYOUT_TABLE_CLEANED,
            f"The {len(layout.blank)} area(s) where a {layout.device} puts its text on a {layout.columns} x "
            f"{layout.rows} image are blanked, in every frame (layout table; source: {layout.source}).",
        )
        return Plan(Report(True, True, (supported, cleaned), CleaningMethod.LAYOUT_TABLE), layout.blank)
    cleaned = Reason(
        ReasonCode.US_REGIONS_CLEANED,
        f"Every pixel outside the {len(regions)} ultrasound data region(s) is blanked, in every frame.",
    )
    blank = outside(int(dataset.Rows), int(dataset.Columns), regions)
    return Plan(Report(True, True, (supported, cleaned), CleaningMethod.REGIONS), blank)


def keep_regions(dataset: Dataset) -> tuple[Region, ...]:
    """The ultrasound regions holding image data; none at all when any region does not fit the image.

    A region that reaches outside the image (a 320 x 240 image declaring a region up to x = 595) says the
    image was cropped or scaled after the regions were written: no region of it is evidence of where the
    scan is. A region may end one pixel past the image (its maximum equal to Columns or Rows: the writer
    took the bound as exclusive); it is clipped to the image.
    """
    rows, columns = int(dataset.get("Rows") or 0), int(dataset.get("Columns") or 0)
    regions = []
    for item in dataset.get("SequenceOfUltrasoundRegions") or []:
        bounds = [item.get(keyword) for keyword in _REGION_BOUNDS]
        if not all(isinstance(bound, int) for bound in bounds):
            continue
        min_x, min_y, max_x, max_y = (int(bound) for bound in bounds)
        if not (0 <= min_x <= max_x <= columns and 0 <= min_y <= max_y <= rows):
            return ()
        if item.get("RegionSpatialFormat") not in _DATA_REGION_FORMATS:
            continue
        max_x, max_y = min(max_x, columns - 1), min(max_y, rows - 1)
        if min_x <= max_x and min_y <= max_y:
            regions.append(Region(min_x, min_y, max_x, max_y))
    return tuple(regions)


def _rewritable(dataset: Dataset, file_meta: Dataset) -> bool:
    return (
        can_decode(file_meta.get("TransferSyntaxUID") or ExplicitVRLittleEndian)
        and dataset.get("BitsAllocated") in (8, 16)
        and dataset.get("SamplesPerPixel") in (1, 3)
        and str(dataset.get("PhotometricInterpretation") or "").strip() in _REWRITABLE_PHOTOMETRIC
        and bool(dataset.get("Rows"))
        and bool(dataset.get("Columns"))
    )


def _refuse(code: ReasonCode, text: str) -> Plan:
    return Plan(Report(False, False, (Reason(code, text),)))
