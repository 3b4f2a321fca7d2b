"""What the engine says about an instance: can it be shared, were pixels cleaned, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    """Machine-readable reasons. Those marked *refusal* make an instance not anonymizable."""

    SUPPORTED_SOP_CLASS = "supported_sop_class"
    """The SOP class is one we know how to de-identify."""
    NO_BURNED_IN_ANNOTATION = "no_burned_in_annotation"
    """The pixels are not expected to hold text (the header says so, or the modality does not burn in)."""
    US_REGIONS_CLEANED = "us_regions_cleaned"
    """Pixels outside the ultrasound data regions are (to be) blanked."""
    LAYOUT_TABLE_CLEANED = "layout_table_cleaned"
    """The rectangles where the device's known screen layout puts its text are (to be) blanked."""
    MISSING_SOP_CLASS = "missing_sop_class"
    """Refusal: neither SOP Class UID nor Media Storage SOP Class UID is present."""
    MISSING_SOP_INSTANCE_UID = "missing_sop_instance_uid"
    """Refusal: the instance has no SOP Instance UID, so no valid copy can be written."""
    MISSING_STUDY_INSTANCE_UID = "missing_study_instance_uid"
    """Refusal: the dataset has no Study Instance UID, and nothing to make a consistent one from."""
    UNSUPPORTED_SOP_CLASS = "unsupported_sop_class"
    """Refusal: a SOP class that is not on our list of known image classes."""
    STRUCTURED_REPORT = "structured_report"
    """Refusal: SR documents hold free text and names in their content tree."""
    ENCAPSULATED_DOCUMENT = "encapsulated_document"
    """Refusal: encapsulated PDF, CDA or 3D models; their content cannot be inspected."""
    SECONDARY_CAPTURE = "secondary_capture"
    """Refusal: screenshots and scanned documents; text anywhere in the pixels."""
    BURNED_IN_ANNOTATION = "burned_in_annotation"
    """Refusal: the header says text is burned into the pixels and we cannot clean it."""
    BURNED_IN_ANNOTATION_UNKNOWN = "burned_in_annotation_unknown"
    """Refusal: a modality that usually burns in text, with no header saying otherwise and nothing to clean by."""
    CLEAN_PIXEL_DATA_NOT_SELECTED = "clean_pixel_data_not_selected"
    """Refusal: the pixels need cleaning but the Clean Pixel Data option was not selected."""
    NO_USABLE_US_REGIONS = "no_usable_us_regions"
    """Refusal: the pixels need cleaning but no ultrasound region describes where the data is."""
    PIXEL_DATA_NOT_DECODABLE = "pixel_data_not_decodable"
    """Refusal: the pixels need cleaning but their encoding or layout is one we cannot rewrite."""


class CleaningMethod(StrEnum):
    """What told us where the burned-in text is, when the pixels were cleaned."""

    REGIONS = "regions"
    """The instance's Sequence of Ultrasound Regions: everything outside its data regions is blanked."""
    LAYOUT_TABLE = "layout_table"
    """A row of the table of known device layouts (``data/us_layouts.csv``): its rectangles are blanked."""
    NONE = "none"
    """The pixels were not cleaned (they need not be, or the instance is refused)."""


@dataclass(frozen=True)
class Reason:
    """A reason code and a sentence for people. The text never holds patient data."""

    code: ReasonCode
    text: str


@dataclass(frozen=True)
class Report:
    """The verdict on one instance.

    ``pixels_cleaned`` is true when burned-in text was (from :func:`anonymize_file`) or will be (from
    :func:`assess`) blanked from the pixel data, and ``cleaning`` names the method that said where.
    """

    anonymizable: bool
    pixels_cleaned: bool
    reasons: tuple[Reason, ...]
    cleaning: CleaningMethod = CleaningMethod.NONE

    def as_json(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        return {
            "anonymizable": self.anonymizable,
            "pixels_cleaned": self.pixels_cleaned,
            "cleaning": self.cleaning.value,
            "reasons": [{"code": reason.code.value, "text": reason.text} for reason in self.reasons],
        }
