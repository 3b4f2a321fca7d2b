"""The verdict the study index keeps at ingest is the one the share worker reaches when it prepares the share."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from pydicom.data import get_testdata_files
from pydicom.uid import CTImageStorage, UltrasoundImageStorage

from chalicelib.domain import links
from chalicelib.domain.anonymization import NotDicom, anonymize_file
from chalicelib.domain.dicom_header import Unreadable, read_indexed
from chalicelib.domain.shares import Share
from chalicelib.domain.verdicts import NOT_YET_KNOWN, InstanceVerdict, Verdict, from_report, needs_password
from chalicelib.services import ingest
from chalicelib.services.deps import Deps
from chalicelib.services.share_files import prepare_files
from tests import dicom_files
from tests.fakes import FakeClock

CLINIC = "cl_00000000000000a1"
STUDY = "1.2.826.0.1.3680043.8.498.501"
KEY = b"k" * 32

#: The repo's own test files: the cases a clinic meets (and the reason each is known by).
MADE = {
    "us_with_regions": (dicom_files.instance(sop_class=UltrasoundImageStorage, us_region=True), "us_regions_cleaned"),
    "us_without_regions": (dicom_files.instance(sop_class=UltrasoundImageStorage), "no_usable_us_regions"),
    "cine_said_clean": (dicom_files.instance(frames=4, burned_in="NO"), "no_burned_in_annotation"),
    "ct": (dicom_files.instance(sop_class=CTImageStorage, modality="CT"), "no_burned_in_annotation"),
    "ct_burned_in": (dicom_files.instance(sop_class=CTImageStorage, burned_in="YES"), "burned_in_annotation"),
    "secondary_capture": (dicom_files.instance(), "secondary_capture"),
}
PYDICOM = sorted(path for path in map(Path, get_testdata_files()) if path.is_file())


def worker_verdict(source: Path, tmp_path: Path) -> InstanceVerdict:
    return from_report(anonymize_file(source, tmp_path / "out.dcm", key=KEY))


@pytest.mark.parametrize("name", sorted(MADE))
def test_the_verdict_at_ingest_is_the_workers_on_the_repos_files(name: str, tmp_path: Path) -> None:
    data, reason = MADE[name]
    announced = read_indexed(io.BytesIO(data)).verdict
    source = tmp_path / "in.dcm"
    source.write_bytes(data)
    assert announced == worker_verdict(source, tmp_path)
    assert announced.reason == reason


@pytest.mark.parametrize("path", PYDICOM, ids=lambda p: p.name)
def test_the_verdict_at_ingest_is_the_workers_on_pydicoms_files(path: Path, tmp_path: Path) -> None:
    try:
        announced = read_indexed(io.BytesIO(path.read_bytes())).verdict
    except Unreadable:
        pytest.skip("not indexed: refused at ingest")
    try:
        decided = worker_verdict(path, tmp_path)
    except NotDicom:
        # Pixel data cut short past its header (found only by reading it through): the worker leaves the
        # instance out, so it asks for no password either; the announcement must not have promised one.
        assert announced.verdict is not Verdict.PASSWORD
        return
    assert announced == decided


def test_a_prepared_share_asks_for_the_password_exactly_as_announced(
    deps: Deps, clock: FakeClock, tmp_path: Path
) -> None:
    for number, name in enumerate(("us_with_regions", "us_without_regions")):
        study = f"{STUDY}.{number}"
        data = dicom_files.instance(
            study_uid=study, sop_class=UltrasoundImageStorage, us_region=name == "us_with_regions"
        )
        ingest.store_instances(CLINIC, [data], deps)
        instances = deps.studies.instances(CLINIC, study)
        share = Share(
            f"sh_000000000000000000{number}a", CLINIC, study, None, (), "sv", links.token_hash(links.new_token()),
            links.new_nonce(), clock.now(), clock.now() + timedelta(days=90),
        )  # fmt: skip
        prepared = prepare_files(share, instances, deps, tmp_path)
        assert prepared.needs_password is needs_password(i.verdict for i in instances)
        assert prepared.needs_password is (name == "us_without_regions")


def test_password_is_not_known_while_any_instance_is_not_assessed() -> None:
    anonymized = InstanceVerdict(Verdict.ANONYMIZED, "us_regions_cleaned")
    password = InstanceVerdict(Verdict.PASSWORD, "burned_in_annotation")
    assert needs_password([anonymized]) is False
    assert needs_password([anonymized, NOT_YET_KNOWN]) is None
    assert needs_password([NOT_YET_KNOWN, password]) is True
