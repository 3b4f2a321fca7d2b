"""Record how an instance was de-identified (PS3.15 E.1.1 step 6, and E.3.6 for dates)."""

from __future__ import annotations

import io
from functools import cache

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset

from chalicelib.domain.anonymization.options import BASIC_PROFILE_CODE, Option, Options


def mark_deidentified(dataset: Dataset, options: Options, *, pixels_cleaned: bool) -> None:
    """Set Patient Identity Removed, the De-identification Method and its codes, and how dates were kept.

    Clean Pixel Data is only claimed (and Burned In Annotation set to NO) when ``pixels_cleaned``.
    """
    implicit_vr, little_endian = dataset.original_encoding
    for element in _method_elements(options, pixels_cleaned, implicit_vr is True, little_endian is not False):
        dataset[element.tag] = element


@cache
def _method_elements(
    options: Options, pixels_cleaned: bool, implicit_vr: bool, little_endian: bool
) -> tuple[RawDataElement, ...]:
    """The attributes recording the method, encoded once per selection and encoding: they never vary."""
    codes = [BASIC_PROFILE_CODE] + [
        option.code for option in options if option is not Option.CLEAN_PIXEL_DATA or pixels_cleaned
    ]
    method = Dataset()
    method.PatientIdentityRemoved = "YES"
    method.DeidentificationMethod = [meaning for _, meaning in codes]
    items = []
    for value, meaning in codes:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    method.DeidentificationMethodCodeSequence = items
    if Option.RETAIN_LONGITUDINAL_FULL_DATES in options:
        method.LongitudinalTemporalInformationModified = "UNMODIFIED"
    elif Option.RETAIN_LONGITUDINAL_MODIFIED_DATES in options:
        method.LongitudinalTemporalInformationModified = "MODIFIED"
    else:
        method.LongitudinalTemporalInformationModified = "REMOVED"
    if pixels_cleaned:
        method.BurnedInAnnotation = "NO"
    encoded = DicomBytesIO()
    encoded.is_implicit_VR, encoded.is_little_endian = implicit_vr, little_endian
    write_dataset(encoded, method)
    decoded = read_dataset(io.BytesIO(encoded.getvalue()), implicit_vr, little_endian)
    tags = list(decoded.keys())  # iterating a Dataset would convert its elements
    elements: list[object] = [decoded.get_item(tag, keep_deferred=True) for tag in tags]
    return tuple(element for element in elements if isinstance(element, RawDataElement))
