"""How a combined action code (X/Z, X/D, Z/D, X/Z/D, X/Z/U*) becomes one action.

The standard lets the IOD decide: "X unless Z or D is required to maintain IOD conformance". We take the
least destructive action that keeps every IOD we accept valid (see ``sop_classes.SUPPORTED``):

- Type 1 (must be present with a value)  → D (a dummy value; for UIDs a replaced UID)
- Type 2 (must be present, may be empty) → Z
- Type 3 (optional)                      → X

so we need the Type of each attribute that has a combined code. Where the Type differs between the IODs we
accept, the strictest one is listed (Series Date is Type 3 in General Series but Type 1 in PET Series, so it
gets D). An attribute not listed here is treated as Type 3: the most protective action the code allows.

X/Z/U* is resolved to U* for every IOD: the sequence is kept and the instance UIDs inside it are replaced
like every other UID, so references between the instances of one share keep resolving.
"""

from __future__ import annotations

from typing import Final, Literal

AttributeType = Literal["1", "2", "3"]

# tag → (strictest Type among the IODs we accept, where that Type comes from)
ATTRIBUTE_TYPES: Final[dict[str, tuple[AttributeType, str]]] = {
    "(0008,0012)": ("3", "SOP Common"),
    "(0008,0013)": ("3", "SOP Common"),
    "(0008,0021)": ("1", "PET Series (Type 3 in General Series)"),
    "(0008,0022)": ("2", "PET Image (Type 3 in General Image)"),
    "(0008,0023)": ("1", "Enhanced CT/MR/XA/XRF/PET Image, Multi-frame Functional Groups (2C in General Image)"),
    "(0008,002A)": ("1", "Enhanced CT/MR/XA/XRF/PET Image, 1C for original images (3 in General Image)"),
    "(0008,0031)": ("1", "PET Series (Type 3 in General Series)"),
    "(0008,0032)": ("2", "PET Image (Type 3 in General Image)"),
    "(0008,0033)": ("1", "Enhanced CT/MR/XA/XRF/PET Image, Multi-frame Functional Groups (2C in General Image)"),
    "(0008,0080)": ("3", "General Equipment, Enhanced General Equipment"),
    "(0008,0082)": ("3", "General Equipment"),
    "(0008,1010)": ("3", "General Equipment"),
    "(0008,1070)": ("3", "General Series"),
    "(0008,1072)": ("3", "General Series"),
    "(0008,1110)": ("3", "General Study"),
    "(0008,1111)": ("3", "General Series"),
    "(0010,0020)": ("2", "Patient"),
    "(0010,2203)": ("2", "Patient (2C, non-human organisms)"),
    "(0018,0010)": ("2", "Contrast/Bolus"),
    "(0018,1000)": ("1", "Enhanced General Equipment (Type 3 in General Equipment)"),
    "(0018,1030)": ("3", "General Series"),
    "(0018,1400)": ("3", "DX Image, CR Image"),
    "(0018,700A)": ("3", "DX Detector"),
    "(0018,700C)": ("3", "DX Detector"),
    "(0018,700E)": ("3", "DX Detector"),
    "(0032,1060)": ("3", "Request Attributes items of General Series"),
    "(0040,0555)": ("2", "Acquisition Context (DX, MG, IO, Enhanced CT/MR/XA/XRF/PET)"),
}

UNKNOWN_TYPE: Final[AttributeType] = "3"

_PREFERENCE: Final[dict[AttributeType, tuple[str, ...]]] = {
    "1": ("D", "Z", "X"),
    "2": ("Z", "D", "X"),
    "3": ("X", "Z", "D"),
}


def resolve_action(code: str, tag: str) -> str:
    """The single action (X, Z, D, U, U*, K or C) that ``code`` stands for on the attribute ``tag``."""
    choices = code.split("/")
    if len(choices) == 1:
        return code
    if "U*" in choices:
        return "U*"
    attribute_type = ATTRIBUTE_TYPES.get(tag, (UNKNOWN_TYPE, ""))[0]
    return next(choice for choice in _PREFERENCE[attribute_type] if choice in choices)
