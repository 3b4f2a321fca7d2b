"""Property: whatever identifying values an instance carries, and wherever, none reaches the written file.

Datasets are generated with identifying values in random attributes of Table E.1-1 (those the profile and
options do not retain), inside nested sequences, in private blocks, in overlays and curves, and after the
pixel data. The check reads the bytes of the written file, not the dataset API.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage

from chalicelib.domain.anonymization import PATIENT_SHARE_OPTIONS, Option, Options, anonymize_file
from chalicelib.domain.anonymization.profile_table import profile_rows
from chalicelib.domain.anonymization.rules import dictionary_vr
from tests.unit.anonymization.builders import KEY, write

TEXT_VRS = {"PN", "LO", "SH", "LT", "ST", "UT", "UC", "CS", "AE", "DA", "DT", "UI", "UR"}
# Sequences to nest in: kept ones (their items are cleaned) and protected ones (removed or emptied whole).
SEQUENCES = (
    0x00081032,  # Procedure Code Sequence: not in the table, kept
    0x00400260,  # Performed Protocol Code Sequence: not in the table, kept
    0x00082218,  # Anatomic Region Sequence: not in the table, kept
    0x00081140,  # Referenced Image Sequence: X/Z/U*, kept with its UIDs replaced
    0x00082112,  # Source Image Sequence: X/Z/U*
    0x00101002,  # Other Patient IDs Sequence: X
    0x00400275,  # Request Attributes Sequence: X (C under Clean Descriptors, which we do not do on sequences)
    0x00081110,  # Referenced Study Sequence: X/Z
)


def protected_attributes(options: Options) -> list[tuple[int, str]]:
    """(tag, VR) of the table's attributes with text values that ``options`` does not retain."""
    attributes = []
    for row in profile_rows():
        if (tag := row.number) is None:
            continue
        vr = dictionary_vr(tag)
        retained = any(option in options and action == "K" for option, action in row.options.items())
        if tag >> 16 not in (0x0000, 0x0002) and vr in TEXT_VRS and not retained:
            attributes.append((tag, vr))
    return attributes


markers = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=10, max_size=10).map(lambda text: "QZ" + text)
uids = st.integers(min_value=1, max_value=10**20).map(lambda number: f"1.2.826.0.1.3680043.10.543.{number}")
dates = st.dates(min_value=date(1901, 1, 1)).map(lambda day: day.strftime("%Y%m%d"))


def value_for(vr: str) -> st.SearchStrategy[str]:
    if vr == "UI":
        return uids
    if vr == "DA":
        return dates
    if vr == "DT":
        return dates.map(lambda day: day + "101530")
    if vr == "PN":
        return st.tuples(markers, markers).map("^".join)
    return markers


@st.composite
def identifying_dataset(
    draw: st.DrawFn, attributes: list[tuple[int, str]], depth: int = 0
) -> tuple[Dataset, list[str]]:
    """A dataset and the identifying values in it (at any depth)."""
    ds, values = Dataset(), []
    for tag, vr in draw(st.lists(st.sampled_from(attributes), min_size=1, max_size=6, unique=True)):
        value = draw(value_for(vr))
        ds.add_new(tag, vr, value)
        values.append(value)
    if depth < 3:
        for tag in draw(st.lists(st.sampled_from(SEQUENCES), max_size=2, unique=True)):
            items = draw(st.lists(identifying_dataset(attributes, depth + 1), min_size=1, max_size=2))
            ds.add_new(tag, "SQ", [item for item, _ in items])
            values.extend(value for _, item_values in items for value in item_values)
    for group in draw(st.lists(st.sampled_from([0x0009, 0x0029, 0x7FE1]), max_size=2, unique=True)):
        creator, value = draw(markers), draw(markers)
        ds.private_block(group, creator, create=True).add_new(0x10, "LO", value)
        values.extend((creator, value))
    if depth == 0:
        repeating = draw(st.integers(min_value=0, max_value=15)) * 2 << 16
        label, description, comments = draw(markers), draw(markers), draw(markers)
        ds.add_new(0x50002500 + repeating, "LO", label)  # Curve Label
        ds.add_new(0x60000022 + repeating, "LO", description)  # Overlay Description
        ds.add_new(0x60004000 + repeating, "LT", comments)  # Overlay Comments
        padding = draw(markers)
        ds.add_new(0xFFFCFFFC, "OB", padding.encode())  # Data Set Trailing Padding, after the pixels
        values.extend((label, description, comments, padding))
    return ds, values


def image(ds: Dataset, values: list[str], draw_uid: str) -> Dataset:
    """``ds`` made a CT image (its own identifying attributes win)."""
    base = Dataset()
    base.SOPClassUID = CTImageStorage
    base.SOPInstanceUID = base.StudyInstanceUID = base.SeriesInstanceUID = draw_uid
    base.Modality = "CT"
    base.SamplesPerPixel, base.PhotometricInterpretation = 1, "MONOCHROME2"
    base.Rows = base.Columns = 4
    base.BitsAllocated, base.BitsStored, base.HighBit, base.PixelRepresentation = 16, 12, 11, 0
    base.PixelData = bytes(32)
    base.update(ds)
    if draw_uid in (base.SOPInstanceUID, base.StudyInstanceUID, base.SeriesInstanceUID):
        values.append(draw_uid)
    return base


def leaked(data: bytes, values: list[str]) -> list[str]:
    pieces = {piece for value in values for piece in (value, *value.split("^"))}
    return sorted(piece for piece in pieces if piece.encode() in data)


@pytest.mark.parametrize("options", [Options(), PATIENT_SHARE_OPTIONS, Options.of(Option.RETAIN_SAFE_PRIVATE)])
def test_no_identifying_value_survives_anywhere_in_the_written_file(options: Options) -> None:
    attributes = protected_attributes(options)

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(identifying_dataset(attributes), uids)
    def check(generated: tuple[Dataset, list[str]], uid: str) -> None:
        ds, values = generated
        ds = image(ds, values, uid)
        with tempfile.TemporaryDirectory() as folder:
            source = write(ds, Path(folder) / "in.dcm")
            assert all(value.encode() in source.read_bytes() for value in values)  # the test can fail
            report = anonymize_file(source, Path(folder) / "out.dcm", key=KEY, options=options)
            assert report.anonymizable
            written = (Path(folder) / "out.dcm").read_bytes()
            assert leaked(written, values) == []
            assert dcmread(Path(folder) / "out.dcm").PatientIdentityRemoved == "YES"

    check()


def test_the_generated_attributes_cover_the_table() -> None:
    # Most of Table E.1-1 holds text; the property above draws from all of those attributes.
    assert len(protected_attributes(Options())) > 400
