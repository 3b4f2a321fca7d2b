"""The SOP classes we de-identify, and the families we refuse with a specific reason.

Only image classes whose IODs we have reviewed are accepted (the Types in ``attribute_types`` are taken
from them). Anything else, including classes we have never heard of, is refused: a new IOD may carry
identifying data where we would not look.

``burns_in_text`` says what to assume when Burned In Annotation (0028,0301) is absent: ultrasound and
X-ray angiography / fluoroscopy routinely write the patient's name into the pixels, so for those we assume
it is there; CT, MR, CR, DX, MG, NM and PET put annotations in overlays and presentation states.
``us_regions`` says whether Sequence of Ultrasound Regions can tell us where the image data is, which is
how we clean the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from chalicelib.domain.anonymization.report import ReasonCode


@dataclass(frozen=True)
class SopClass:
    """A SOP class we accept."""

    name: str
    burns_in_text: bool = False
    us_regions: bool = False


SUPPORTED: Final[dict[str, SopClass]] = {
    "1.2.840.10008.5.1.4.1.1.2": SopClass("CT Image Storage"),
    "1.2.840.10008.5.1.4.1.1.2.1": SopClass("Enhanced CT Image Storage"),
    "1.2.840.10008.5.1.4.1.1.4": SopClass("MR Image Storage"),
    "1.2.840.10008.5.1.4.1.1.4.1": SopClass("Enhanced MR Image Storage"),
    "1.2.840.10008.5.1.4.1.1.6.1": SopClass("Ultrasound Image Storage", burns_in_text=True, us_regions=True),
    "1.2.840.10008.5.1.4.1.1.3.1": SopClass(
        "Ultrasound Multi-frame Image Storage", burns_in_text=True, us_regions=True
    ),
    "1.2.840.10008.5.1.4.1.1.6": SopClass("Ultrasound Image Storage (Retired)", burns_in_text=True, us_regions=True),
    "1.2.840.10008.5.1.4.1.1.3": SopClass(
        "Ultrasound Multi-frame Image Storage (Retired)", burns_in_text=True, us_regions=True
    ),
    "1.2.840.10008.5.1.4.1.1.1": SopClass("Computed Radiography Image Storage"),
    "1.2.840.10008.5.1.4.1.1.1.1": SopClass("Digital X-Ray Image Storage - For Presentation"),
    "1.2.840.10008.5.1.4.1.1.1.1.1": SopClass("Digital X-Ray Image Storage - For Processing"),
    "1.2.840.10008.5.1.4.1.1.1.2": SopClass("Digital Mammography X-Ray Image Storage - For Presentation"),
    "1.2.840.10008.5.1.4.1.1.1.2.1": SopClass("Digital Mammography X-Ray Image Storage - For Processing"),
    "1.2.840.10008.5.1.4.1.1.1.3": SopClass("Digital Intra-Oral X-Ray Image Storage - For Presentation"),
    "1.2.840.10008.5.1.4.1.1.1.3.1": SopClass("Digital Intra-Oral X-Ray Image Storage - For Processing"),
    "1.2.840.10008.5.1.4.1.1.12.1": SopClass("X-Ray Angiographic Image Storage", burns_in_text=True),
    "1.2.840.10008.5.1.4.1.1.12.1.1": SopClass("Enhanced XA Image Storage", burns_in_text=True),
    "1.2.840.10008.5.1.4.1.1.12.2": SopClass("X-Ray Radiofluoroscopic Image Storage", burns_in_text=True),
    "1.2.840.10008.5.1.4.1.1.12.2.1": SopClass("Enhanced XRF Image Storage", burns_in_text=True),
    "1.2.840.10008.5.1.4.1.1.20": SopClass("Nuclear Medicine Image Storage"),
    "1.2.840.10008.5.1.4.1.1.128": SopClass("Positron Emission Tomography Image Storage"),
    "1.2.840.10008.5.1.4.1.1.130": SopClass("Enhanced PET Image Storage"),
}

# (UID root, reason): families refused with a reason more telling than "unsupported". A class belongs to a
# family when its UID is the root or starts with the root and a dot (.7.2 is secondary capture, .77.1 is not).
REFUSED_FAMILIES: Final[tuple[tuple[str, ReasonCode], ...]] = (
    ("1.2.840.10008.5.1.4.1.1.88", ReasonCode.STRUCTURED_REPORT),
    ("1.2.840.10008.5.1.4.1.1.104", ReasonCode.ENCAPSULATED_DOCUMENT),
    ("1.2.840.10008.5.1.4.1.1.7", ReasonCode.SECONDARY_CAPTURE),
)


def refused_family(sop_class_uid: str) -> ReasonCode | None:
    """The refusal reason of the family ``sop_class_uid`` belongs to, if any."""
    for root, reason in REFUSED_FAMILIES:
        if sop_class_uid == root or sop_class_uid.startswith(root + "."):
            return reason
    return None
