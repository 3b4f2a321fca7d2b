"""Which instances can be shared at all: a verdict with reasons, from the header alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import (
    BasicTextSRStorage,
    EncapsulatedPDFStorage,
    RTDoseStorage,
    SecondaryCaptureImageStorage,
    XRayAngiographicImageStorage,
)

from chalicelib.domain.anonymization import PATIENT_SHARE_OPTIONS, ReasonCode, anonymize_file, assess
from tests import patient_data
from tests.unit.anonymization.builders import INSTITUTION, KEY, ct_slice, us_cine, write


@pytest.mark.parametrize(
    ("sop_class", "code"),
    [
        (BasicTextSRStorage, ReasonCode.STRUCTURED_REPORT),
        (EncapsulatedPDFStorage, ReasonCode.ENCAPSULATED_DOCUMENT),
        (SecondaryCaptureImageStorage, ReasonCode.SECONDARY_CAPTURE),
        ("1.2.840.10008.5.1.4.1.1.7.4", ReasonCode.SECONDARY_CAPTURE),  # multi-frame true colour SC
        (RTDoseStorage, ReasonCode.UNSUPPORTED_SOP_CLASS),
        ("1.2.840.10008.5.1.4.1.1.77.1.4", ReasonCode.UNSUPPORTED_SOP_CLASS),  # VL Photographic, not SC
        ("1.2.3.4.5.6.7", ReasonCode.UNSUPPORTED_SOP_CLASS),  # a private SOP class
    ],
)
def test_objects_we_cannot_inspect_are_refused(sop_class: str, code: ReasonCode) -> None:
    ds = ct_slice()
    ds.SOPClassUID = sop_class
    report = assess(ds)
    assert not report.anonymizable
    assert [reason.code for reason in report.reasons] == [code]


def test_images_with_burned_in_text_we_cannot_clean_are_refused() -> None:
    ds = ct_slice()
    ds.BurnedInAnnotation = "YES"
    assert [reason.code for reason in assess(ds).reasons] == [ReasonCode.BURNED_IN_ANNOTATION]
    ds.SOPClassUID = XRayAngiographicImageStorage
    del ds.BurnedInAnnotation  # angiography usually burns in text: silence is not enough
    assert [reason.code for reason in assess(ds).reasons] == [ReasonCode.BURNED_IN_ANNOTATION_UNKNOWN]
    ds.BurnedInAnnotation = "NO"
    assert assess(ds).anonymizable


def test_an_instance_without_a_sop_class_is_refused() -> None:
    ds = ct_slice()
    del ds.SOPClassUID
    assert [reason.code for reason in assess(ds).reasons] == [ReasonCode.MISSING_SOP_CLASS]


def test_assess_says_when_pixels_will_be_cleaned_and_writes_nothing() -> None:
    report = assess(us_cine())
    assert (report.anonymizable, report.pixels_cleaned) == (True, True)
    assert [reason.code for reason in report.reasons] == [
        ReasonCode.SUPPORTED_SOP_CLASS,
        ReasonCode.US_REGIONS_CLEANED,
    ]
    assert assess(ct_slice(), PATIENT_SHARE_OPTIONS).pixels_cleaned is False


def test_assess_agrees_with_anonymize_file(tmp_path: Path) -> None:
    for name in ("CT_small.dcm", "examples_ybr_color.dcm", "examples_rgb_color.dcm", "reportsi.dcm"):
        source = Path(get_testdata_file(name))
        assert assess(dcmread(source, stop_before_pixels=True)) == anonymize_file(
            source, tmp_path / f"{name}.out", key=KEY
        )


def test_reasons_never_carry_patient_data(tmp_path: Path) -> None:
    values = [*patient_data.ALL, INSTITUTION, "19560412", "ACC-778812"]
    for ds in (ct_slice(), us_cine(), us_cine(regions=())):
        for sop_class in (ds.SOPClassUID, BasicTextSRStorage, "1.2.3.4"):
            ds.SOPClassUID = sop_class
            text = json.dumps(anonymize_file(write(ds, tmp_path / "in.dcm"), tmp_path / "o", key=KEY).as_json())
            assert not [value for value in values if value in text]
