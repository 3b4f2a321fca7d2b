"""The command: a JSON report on stdout, one clear line on stderr and a non-zero status on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.unit.anonymization.builders import ct_slice, us_cine, write

ROOT = Path(__file__).resolve().parents[3]


def run(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.anonymize", *map(str, arguments)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_writes_the_copy_and_prints_the_report(tmp_path: Path) -> None:
    source = write(us_cine(), tmp_path / "in.dcm")
    result = run(source, tmp_path / "out.dcm", "--key-hex", "00" * 32)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["anonymizable"] is True
    assert report["pixels_cleaned"] is True
    assert [reason["code"] for reason in report["reasons"]] == ["supported_sop_class", "us_regions_cleaned"]
    assert dcmread(tmp_path / "out.dcm").PatientIdentityRemoved == "YES"


def test_the_same_key_gives_the_same_uids_and_no_key_a_random_one(tmp_path: Path) -> None:
    source = write(ct_slice(), tmp_path / "in.dcm")
    for name, key in (("a", ["--key-hex", "ab" * 16]), ("b", ["--key-hex", "ab" * 16]), ("c", []), ("d", [])):
        assert run(source, tmp_path / f"{name}.dcm", *key).returncode == 0
    uid = {name: dcmread(tmp_path / f"{name}.dcm").SOPInstanceUID for name in "abcd"}
    assert uid["a"] == uid["b"]
    assert len({uid["a"], uid["c"], uid["d"]}) == 3


def test_options_are_chosen_by_name(tmp_path: Path) -> None:
    source = write(ct_slice(), tmp_path / "in.dcm")
    assert run(source, tmp_path / "out.dcm", "--options", "retain-uids,retain-device-identity").returncode == 0
    out = dcmread(tmp_path / "out.dcm")
    assert (out.SOPInstanceUID, out.StationName) == (ct_slice().SOPInstanceUID, "US-ROOM-7")


def test_an_instance_that_cannot_be_shared_is_reported_and_not_written(tmp_path: Path) -> None:
    result = run(write(us_cine(regions=()), tmp_path / "in.dcm"), tmp_path / "out.dcm")
    assert result.returncode == 3
    assert json.loads(result.stdout)["anonymizable"] is False
    assert not (tmp_path / "out.dcm").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a DICOM file at all" * 10, "not DICOM"),
        (b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff", "no Transfer Syntax UID"),  # cut inside the meta
        (None, "does not exist"),
    ],
)
def test_bad_input_gives_one_clear_line_and_a_non_zero_status(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    source = tmp_path / "in.dcm"
    if content is not None:
        source.write_bytes(content)
    result = run(source, tmp_path / "out.dcm")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.dcm").exists()


@pytest.mark.parametrize("arguments", [["--options", "retain everything"], ["--key-hex", "zz"], ["--key-hex", "0011"]])
def test_bad_arguments_are_a_usage_error(tmp_path: Path, arguments: list[str]) -> None:
    result = run(write(ct_slice(), tmp_path / "in.dcm"), tmp_path / "out.dcm", *arguments)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
