"""What happens to the attributes of an instance: the profile, the options, references, the file meta."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

from chalicelib.domain.anonymization import (
    PATIENT_SHARE_OPTIONS,
    Deidentifier,
    Option,
    Options,
    anonymize_file,
    assess,
)
from chalicelib.domain.anonymization.dates import MAX_OFFSET_DAYS, MIN_OFFSET_DAYS
from chalicelib.domain.anonymization.part10 import IMPLEMENTATION_CLASS_UID
from chalicelib.domain.anonymization.quiet import pydicom_silenced
from chalicelib.domain.descriptors import clean_descriptor
from tests import patient_data
from tests.unit.anonymization.builders import (
    INSTITUTION,
    KEY,
    OTHER_KEY,
    SOP_UID,
    STUDY_UID,
    ct_slice,
    read,
    write,
)


def anonymized(tmp_path: Path, ds: Dataset, options: Options = PATIENT_SHARE_OPTIONS, key: bytes = KEY) -> Dataset:
    name = f"{len(list(tmp_path.iterdir()))}"
    source = write(ds, tmp_path / f"{name}.dcm")
    target = tmp_path / f"{name}.out.dcm"
    report = anonymize_file(source, target, key=key, options=options)
    assert report.anonymizable, report
    return read(target)


def days(da: str) -> int:
    return date(int(da[:4]), int(da[4:6]), int(da[6:])).toordinal()


def test_the_basic_profile_protects_the_identifying_attributes(tmp_path: Path) -> None:
    out = anonymized(tmp_path, ct_slice())
    assert out.PatientName == ""  # Z
    assert out.PatientID == ""  # Z/D, Type 2 in the Patient module
    assert out.PatientBirthDate == ""
    assert out.AccessionNumber == ""
    assert out.ReferringPhysicianName == ""
    assert out.StudyID == ""
    for keyword in ("InstitutionName", "OperatorsName", "StationName", "PatientTelephoneNumbers"):
        assert keyword not in out, keyword  # X, or X/Z/D for a Type 3 attribute
    assert out.DeviceSerialNumber == "ANONYMIZED"  # X/Z/D, Type 1 in Enhanced General Equipment
    assert out.Manufacturer == "ACME Imaging"  # not in the table: kept


def test_the_patient_share_options_keep_what_they_promise(tmp_path: Path) -> None:
    out = anonymized(tmp_path, ct_slice())
    assert (out.PatientSex, out.PatientAge) == ("F", "069Y")  # Retain Patient Characteristics
    assert out.StudyDescription == "CT THORAX with contrast"  # Clean Descriptors: the phone number is gone
    assert out.SeriesDescription == "AXIAL 5mm"
    assert out.StudyTime == "101500"  # a whole-day shift keeps the time of day
    assert days("20250314") - days(out.StudyDate) in range(MIN_OFFSET_DAYS, MAX_OFFSET_DAYS + 1)


def test_the_basic_profile_alone_removes_characteristics_descriptions_and_dates(tmp_path: Path) -> None:
    out = anonymized(tmp_path, ct_slice(), Options())
    assert out.PatientSex == ""
    assert "PatientAge" not in out
    assert "StudyDescription" not in out
    assert out.StudyDate == ""
    assert out.LongitudinalTemporalInformationModified == "REMOVED"


def test_modified_dates_move_every_date_of_a_patient_by_the_same_days(tmp_path: Path) -> None:
    first, second = ct_slice(), ct_slice(sop_uid=SOP_UID + ".2")
    second.StudyDate = second.SeriesDate = "20250320"
    out_first, out_second = anonymized(tmp_path, first), anonymized(tmp_path, second)
    assert days(out_second.StudyDate) - days(out_first.StudyDate) == 6  # intervals stay true
    assert out_first.SeriesDate == out_first.StudyDate == out_first.ContentDate
    assert out_first.LongitudinalTemporalInformationModified == "MODIFIED"
    other_share = anonymized(tmp_path, ct_slice(), key=OTHER_KEY)
    assert other_share.StudyDate != out_first.StudyDate  # the offset comes from the share key


def test_another_patient_gets_another_date_offset(tmp_path: Path) -> None:
    shifts = set()
    for patient_id in patient_data.PATIENT_IDS:
        ds = ct_slice()
        ds.PatientID = patient_id
        shifts.add(days("20250314") - days(anonymized(tmp_path, ds).StudyDate))
    assert len(shifts) == len(patient_data.PATIENT_IDS)


def test_full_dates_are_kept(tmp_path: Path) -> None:
    out = anonymized(tmp_path, ct_slice(), Options.of(Option.RETAIN_LONGITUDINAL_FULL_DATES))
    assert (out.StudyDate, out.ContentDate) == ("20250314", "20250314")
    assert out.PatientBirthDate == ""  # not a longitudinal date: always protected
    assert out.LongitudinalTemporalInformationModified == "UNMODIFIED"


@pytest.mark.parametrize("retain", [True, False])
def test_device_identity_is_kept_only_when_asked(tmp_path: Path, retain: bool) -> None:
    options = Options.of(Option.RETAIN_DEVICE_IDENTITY) if retain else Options()
    out = anonymized(tmp_path, ct_slice(), options)
    assert (out.get("StationName"), out.get("DeviceSerialNumber")) == (
        ("US-ROOM-7", "SN-99812") if retain else (None, "ANONYMIZED")
    )


def test_institution_identity_is_kept_only_when_asked(tmp_path: Path) -> None:
    assert anonymized(tmp_path, ct_slice(), Options.of(Option.RETAIN_INSTITUTION_IDENTITY)).InstitutionName == (
        INSTITUTION
    )


def test_retain_uids_keeps_them(tmp_path: Path) -> None:
    out = anonymized(tmp_path, ct_slice(), Options.of(Option.RETAIN_UIDS))
    assert (out.SOPInstanceUID, out.StudyInstanceUID) == (SOP_UID, STUDY_UID)
    assert out.file_meta.MediaStorageSOPInstanceUID == SOP_UID


def test_references_between_instances_of_a_share_still_resolve(tmp_path: Path) -> None:
    localizer = ct_slice(sop_uid=SOP_UID + ".1")
    slice_ = ct_slice(sop_uid=SOP_UID + ".2")
    reference = Dataset()
    reference.ReferencedSOPClassUID = localizer.SOPClassUID
    reference.ReferencedSOPInstanceUID = localizer.SOPInstanceUID
    slice_.ReferencedImageSequence = [reference]
    source = Dataset()
    source.ReferencedSOPClassUID = localizer.SOPClassUID
    source.ReferencedSOPInstanceUID = localizer.SOPInstanceUID
    slice_.SourceImageSequence = [source]
    out_localizer, out_slice = anonymized(tmp_path, localizer), anonymized(tmp_path, slice_)
    assert out_slice.ReferencedImageSequence[0].ReferencedSOPInstanceUID == out_localizer.SOPInstanceUID
    assert out_slice.SourceImageSequence[0].ReferencedSOPInstanceUID == out_localizer.SOPInstanceUID
    assert out_slice.ReferencedImageSequence[0].ReferencedSOPClassUID == localizer.SOPClassUID  # registered
    assert out_slice.StudyInstanceUID == out_localizer.StudyInstanceUID != STUDY_UID
    assert out_slice.FrameOfReferenceUID == out_localizer.FrameOfReferenceUID
    assert out_slice.SOPInstanceUID != out_localizer.SOPInstanceUID


def test_the_file_meta_and_preamble_are_written_anew(tmp_path: Path) -> None:
    source = write(ct_slice(), tmp_path / "in.dcm")
    original = bytearray(source.read_bytes())
    original[:128] = INSTITUTION.encode().ljust(128, b" ")  # a preamble with a name in it
    source.write_bytes(bytes(original))
    anonymize_file(source, tmp_path / "out.dcm", key=KEY)
    written = (tmp_path / "out.dcm").read_bytes()
    assert written[:132] == b"\0" * 128 + b"DICM"
    out = read(tmp_path / "out.dcm")
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID != SOP_UID
    assert out.file_meta.MediaStorageSOPClassUID == out.SOPClassUID
    assert out.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID != PYDICOM_IMPLEMENTATION_UID
    assert "SourceApplicationEntityTitle" not in out.file_meta


def test_the_de_identification_method_is_recorded(tmp_path: Path) -> None:
    out = anonymized(tmp_path, ct_slice())
    assert out.PatientIdentityRemoved == "YES"
    codes = [(item.CodeValue, item.CodingSchemeDesignator) for item in out.DeidentificationMethodCodeSequence]
    # Clean Pixel Data is only claimed for instances whose pixels were cleaned (not this CT).
    assert codes == [("113100", "DCM"), ("113105", "DCM"), ("113107", "DCM"), ("113108", "DCM")]
    assert "Basic Application Confidentiality Profile" in out.DeidentificationMethod
    assert all(len(value) <= 64 for value in out.DeidentificationMethod)  # LO


def test_the_rules_apply_at_every_depth_of_nested_sequences() -> None:
    ds = ct_slice()
    inner = Dataset()
    inner.PatientName = patient_data.PATIENT_NAMES[0]
    inner.InstitutionName = INSTITUTION
    inner.ReferencedSOPInstanceUID = SOP_UID
    middle = Dataset()
    middle.ProcedureCodeSequence = [inner]  # not in the table: kept, and its items cleaned
    middle.PatientID = patient_data.PATIENT_IDS[0]
    outer = Dataset()
    outer.CodeValue = "T-D4000"
    outer.PurposeOfReferenceCodeSequence = [middle]
    ds.ProcedureCodeSequence = [outer]
    ds.OtherPatientIDsSequence = [middle]  # X: goes whole
    Deidentifier.for_share(KEY, PATIENT_SHARE_OPTIONS).apply(ds)
    kept_middle = ds.ProcedureCodeSequence[0].PurposeOfReferenceCodeSequence[0]
    kept_inner = kept_middle.ProcedureCodeSequence[0]
    assert ds.ProcedureCodeSequence[0].CodeValue == "T-D4000"
    assert kept_middle.PatientID == ""
    assert kept_inner.PatientName == ""
    assert "InstitutionName" not in kept_inner
    assert kept_inner.ReferencedSOPInstanceUID == ds.SOPInstanceUID
    assert "OtherPatientIDsSequence" not in ds


def test_a_dummy_sequence_keeps_no_content() -> None:
    ds = ct_slice()
    observer = Dataset()
    observer.VerifyingObserverName = patient_data.PATIENT_NAMES[1]
    ds.VerifyingObserverSequence = [observer]  # D
    Deidentifier.for_share(KEY, Options()).apply(ds)
    assert ds.VerifyingObserverSequence == Sequence([Dataset()])


def test_private_attributes_go_except_the_safe_ones_when_asked() -> None:
    def with_private() -> Dataset:
        ds = ct_slice()
        ds.private_block(0x7053, "Philips PET Private Group", create=True).add_new(0x00, "DS", "0.000123")
        ds.private_block(0x7053, "Philips PET Private Group").add_new(0x01, "LO", patient_data.PATIENT_NAMES[0])
        ds.private_block(0x0029, "SOME VENDOR", create=True).add_new(0x10, "LO", patient_data.PATIENT_IDS[0])
        item = Dataset()
        item.private_block(0x0011, "SOME VENDOR", create=True).add_new(0x01, "LO", patient_data.EMAILS[0])
        ds.ProcedureCodeSequence = [item]
        return ds

    removed = with_private()
    Deidentifier.for_share(KEY, PATIENT_SHARE_OPTIONS).apply(removed)
    assert not [element for element in removed if element.tag.is_private]
    assert not [element for element in removed.ProcedureCodeSequence[0] if element.tag.is_private]

    safe = with_private()
    Deidentifier.for_share(KEY, Options.of(Option.RETAIN_SAFE_PRIVATE)).apply(safe)
    assert sorted(element.tag for element in safe if element.tag.is_private) == [0x70530010, 0x70531000]
    assert safe[0x70531000].value == "0.000123"


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("CT THORAX/ABDOMEN W CONTRAST 5mm Dr Smith 0701-123456", "CT THORAX ABDOMEN W CONTRAST 5mm"),
        ("MR Brain T2 FLAIR ax 3.5mm", "MR Brain T2 FLAIR ax 3.5mm"),
        (patient_data.PATIENT_NAMES[2], ""),
        ("Knee left 2025-03-14", "Knee left"),
    ],
)
def test_clean_descriptors_keeps_only_reviewed_words(text: str, cleaned: str) -> None:
    assert clean_descriptor(text) == cleaned


def test_edits_on_encoded_bytes_agree_with_edits_on_decoded_values(tmp_path: Path) -> None:
    def varied() -> Dataset:
        ds = ct_slice()
        ds.AcquisitionDate = "2025.03.14"  # ACR-NEMA form
        ds.InstanceCreationDate = "2025"  # not a full date: cannot be shifted, falls back to X
        ds.AcquisitionDateTime = "20250314101500.123456+0100"
        ds.CalibrationDate = ["20250101", "20250201"]
        ds.add_new(0x0040A124, "UI", "")  # UID: empty stays empty
        ds.OtherPatientIDs = [patient_data.PATIENT_IDS[0], patient_data.PATIENT_IDS[1]]
        ds.ReferencedSOPClassUID = ["1.2.840.10008.5.1.4.1.1.2", "1.2.826.0.1.3680043.8.498.77"]
        return ds

    decoded = varied()  # values set from Python: every edit takes the decoded path
    Deidentifier.for_share(KEY, PATIENT_SHARE_OPTIONS).apply(decoded)
    encoded = read(write(varied(), tmp_path / "in.dcm"))  # values still bytes: the raw path
    Deidentifier.for_share(KEY, PATIENT_SHARE_OPTIONS).apply(encoded)

    assert sorted(encoded.keys()) == sorted(decoded.keys())
    for element in decoded:
        assert str(encoded[element.tag].value) == str(element.value), element.tag
    assert days("20250314") - days(encoded.AcquisitionDate) == days("20250314") - days(encoded.StudyDate)
    assert "InstanceCreationDate" not in encoded
    assert encoded.AcquisitionDateTime.endswith("101500.123456+0100")
    assert encoded.ReferencedSOPClassUID[0] == "1.2.840.10008.5.1.4.1.1.2"
    assert encoded.ReferencedSOPClassUID[1].startswith("2.25.")


def test_invalid_values_are_not_quoted_in_warnings_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    ds = ct_slice()
    with pydicom_silenced():  # pydicom warns, quoting them, when the test sets these values too
        ds.StudyDate = patient_data.PATIENT_IDS[0]  # not a date
        ds.SeriesDate = patient_data.PATIENT_NAMES[0]
        source = write(ds, tmp_path / "in.dcm")
    with caplog.at_level("DEBUG"):
        anonymize_file(source, tmp_path / "out.dcm", key=KEY)
        assess(read(source))
        Deidentifier.for_share(KEY, PATIENT_SHARE_OPTIONS).apply(read(source))
    said = caplog.text + "".join(str(warning.message) for warning in recwarn)
    assert patient_data.PATIENT_IDS[0] not in said
    assert patient_data.PATIENT_NAMES[0] not in said
    assert read(tmp_path / "out.dcm").StudyDate == ""  # could not be shifted: Z


EDITION_2026C_FREE_TEXT = (
    "SecondaryCaptureDeviceID",
    "HardcopyCreationDeviceID",
    "MultiplexGroupLabel",
    "ChannelLabel",
    "ChannelDerivationDescription",
    "AcquisitionContextDescription",
)


def test_the_free_text_rows_of_edition_2026c_are_removed_under_the_basic_profile(tmp_path: Path) -> None:
    ds = ct_slice()
    name = patient_data.PATIENT_NAMES[0]
    for keyword in EDITION_2026C_FREE_TEXT:
        setattr(ds, keyword, name[:16])  # SH holds 16 characters
    text = Dataset()
    text.UnformattedTextValue = f"Patient {name}"
    ds.TextObjectSequence = [text]  # not in the table: kept, and the rules applied to its items
    source = write(ds, tmp_path / "in.dcm")
    for options in (Options(), PATIENT_SHARE_OPTIONS):
        target = tmp_path / "out.dcm"
        assert anonymize_file(source, target, key=KEY, options=options).anonymizable
        out = read(target)
        for keyword in EDITION_2026C_FREE_TEXT:
            assert keyword not in out, keyword  # X
        assert out.TextObjectSequence[0].UnformattedTextValue == "ANONYMIZED"  # D
        assert name[:16].encode() not in target.read_bytes()


def test_sequences_edition_2026c_removes_are_no_longer_kept_and_cleaned_inside(tmp_path: Path) -> None:
    ds = ct_slice()
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "2106-3", "CDCREC", "White"
    ds.EthnicGroupCodeSequence = [code]
    annotation = Dataset()
    annotation.UnformattedTextValue = patient_data.PATIENT_NAMES[0]
    ds.WaveformAnnotationSequence = [annotation]  # X/D: Type 3 in every IOD we accept, so X
    out = anonymized(tmp_path, ds)
    assert "EthnicGroupCodeSequence" not in out
    assert "WaveformAnnotationSequence" not in out
