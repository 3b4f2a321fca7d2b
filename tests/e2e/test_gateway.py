"""The clinic gateway end to end: modalities send by C-STORE, the gateway spools and uploads to the running
local stack, and the study is found by the patient's name. Then the faults: the stack down, the gateway
killed mid-upload, a full spool, a file the service refuses."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydicom.filereader import read_file_meta_info

from tests import dicom_files, patient_data
from tests.e2e.conftest import Stack, free_port, running_stack
from tests.e2e.gateway_helpers import (
    GatewayProcess,
    gateway,
    qido_by_name,
    send_pynetdicom,
    send_raw_files,
    send_storescu,
    sop_uid,
    study_files,
    study_instances,
    wait_for,
    write_key,
)

pytestmark = pytest.mark.e2e

SUCCESS, OUT_OF_RESOURCES = 0x0000, 0xA700


def found_by_name(stack: Stack, key: str, study: str) -> dict[str, Any] | None:
    """The study as QIDO-RS finds it by the patient's name (family name, a wildcard, any case)."""
    family = patient_data.PATIENT_NAMES[2].split("^")[0].lower()
    return next((s for s in qido_by_name(stack, key, family + "*") if s["0020000D"]["Value"][0] == study), None)


def assert_whole_study_arrives(stack: Stack, key: str, study: str, files: list[Path], gw: GatewayProcess) -> None:
    sent = sorted(sop_uid(f) for f in files)
    wait_for(lambda: study_instances(stack, key, study) == sent, 90, "every instance in the study index", gw)
    found = wait_for(lambda: found_by_name(stack, key, study), 30, "QIDO-RS to find the study by name", gw)
    assert found["00201208"]["Value"] == [len(files)]  # NumberOfStudyRelatedInstances
    assert set(found["00080061"]["Value"]) == {"US", "CT"}
    wait_for(gw.drained, 30, "the spool to empty", gw)
    uploads = gw.events("upload")
    assert sorted(u["sop_instance_uid"] for u in uploads if u["outcome"] == "stored") == sent


def test_pynetdicom_sends_a_cine_an_image_and_a_ct_series_and_qido_finds_the_study(
    stack: Stack, tmp_path: Path
) -> None:
    key = stack.new_clinic("Gateway pynetdicom")
    gw = gateway(tmp_path, stack.base_url, key).start()
    try:
        study, files = study_files(tmp_path / "study")
        assert send_pynetdicom(gw.port, files) == [SUCCESS] * len(files)
        assert_whole_study_arrives(stack, key, study, files, gw)
        [association] = gw.events("association")
        assert association["calling_ae"] == "US1"
        assert association["stored"] == len(files)
    finally:
        gw.stop()


def test_dcmtk_storescu_sends_the_same_study_and_qido_finds_it(stack: Stack, tmp_path: Path) -> None:
    key = stack.new_clinic("Gateway storescu")
    gw = gateway(tmp_path, stack.base_url, key).start()
    try:
        study, files = study_files(tmp_path / "study")
        sent = send_storescu(gw.port, files)
        assert sent.returncode == 0, sent.stderr[-2000:]
        assert_whole_study_arrives(stack, key, study, files, gw)
    finally:
        gw.stop()


def test_a_calling_ae_title_off_the_allow_list_stores_nothing(stack: Stack, tmp_path: Path) -> None:
    gw = gateway(tmp_path, stack.base_url, stack.new_clinic("Gateway allow-list")).start()
    try:
        _, files = study_files(tmp_path / "study", ct_slices=1)
        sent = send_storescu(gw.port, files, calling="INTRUDER")
        assert sent.returncode != 0
        assert "rejected" in sent.stderr.lower() or "reject" in sent.stdout.lower()
        assert gw.pending() == []
    finally:
        gw.stop()


# ---------------------------------------------------------------------------------------------- faults


def test_while_the_stack_is_down_instances_wait_in_the_spool_and_arrive_once_it_is_back(tmp_path: Path) -> None:
    port, aws_port = free_port(), free_port()
    gw = gateway(tmp_path / "gw", f"http://127.0.0.1:{port}", "psk_not_yet_issued").start()
    try:
        study, files = study_files(tmp_path / "study")
        assert send_pynetdicom(gw.port, files) == [SUCCESS] * len(files)
        wait_for(lambda: len(gw.events("service_unavailable")) >= 3, 60, "the sender to retry", gw)
        assert len(gw.pending()) == len(files), "nothing leaves the spool while the service is down"
        waits = [line["retry_in_s"] for line in gw.events("service_unavailable")]
        assert waits[1] > waits[0] * 0.9
        assert max(waits) <= 2

        state = tmp_path / "state"
        state.mkdir()
        with running_stack(state, port, aws_port) as stack:
            key = stack.demo["api_key"]  # the stack came up with a new clinic: the box's key file is updated
            write_key(Path(gw.argv[gw.argv.index("--api-key-file") + 1]), key)
            assert_whole_study_arrives(stack, key, study, files, gw)
    finally:
        gw.stop()


def test_killed_during_an_upload_and_restarted_every_instance_arrives_exactly_once(
    stack: Stack, tmp_path: Path
) -> None:
    key = stack.new_clinic("Gateway kill -9")
    gw = gateway(tmp_path, stack.base_url, key)
    study, files = study_files(tmp_path / "study", cine_frames=120, ct_slices=40)
    # Received while the gateway cannot upload yet (its key file is empty), so that one upload holds them all.
    write_key(Path(gw.argv[gw.argv.index("--api-key-file") + 1]), "psk_wrong")
    gw.start()
    assert send_pynetdicom(gw.port, files) == [SUCCESS] * len(files)
    write_key(Path(gw.argv[gw.argv.index("--api-key-file") + 1]), key)

    def mid_upload() -> list[Path] | None:
        journals = list((gw.spool / "batches").glob("*.journal"))
        posted = sum(len(j.read_text().splitlines()) for j in journals)
        return journals if 3 <= posted < len(files) - 5 else None

    journals = wait_for(mid_upload, 60, "the upload to be under way", gw)
    gw.kill()
    manifests = [json.loads(p.read_text()) for p in (gw.spool / "batches").glob("*.json")]
    recorded = {f["name"]: m["upload_id"] for m in manifests for f in m["files"]}
    unsent = len(files) - sum(len(j.read_text().splitlines()) for j in journals)
    assert unsent >= 5, "the kill came during the upload"
    assert len(gw.pending()) >= 5, "what was acknowledged and not confirmed is still in the spool"

    gw.start()
    try:
        sent = sorted(sop_uid(f) for f in files)
        wait_for(lambda: study_instances(stack, key, study) == sent, 120, "every instance in the index", gw)
        wait_for(gw.drained, 60, "the spool to empty", gw)
        stored = [u for u in gw.events("upload") if u["outcome"] == "stored"]
        assert Counter(u["sop_instance_uid"] for u in stored) == Counter(sent), "each instance once"
        assert {u["upload_id"] for u in stored} == set(recorded.values()), "the restart resumed the same upload"
        # The service's own record: each instance went through exactly one file of one upload.
        through: Counter[str] = Counter()
        for upload_id in {u["upload_id"] for u in gw.events("upload")}:
            status, upload = stack.json("GET", f"/studies/uploads/{upload_id}", key=key)
            assert status == 200
            through.update(f["sop_instance_uid"] for f in upload["files"] if f["status"] == "stored")
        assert through == Counter(sent)
    finally:
        gw.stop()


def test_a_full_spool_answers_out_of_resources_and_keeps_what_it_acknowledged(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # no upload drains the spool during the test
    gw = gateway(tmp_path / "gw", nobody, "psk_unused", "--max-spool-mb", "1").start()
    try:
        files = []
        for n in range(6):
            path = tmp_path / f"{n}.dcm"
            path.write_bytes(dicom_files.instance(rows=240, columns=320))  # 230 kB each
            files.append(path)
        statuses = send_pynetdicom(gw.port, files)
        assert statuses == [SUCCESS] * 4 + [OUT_OF_RESOURCES] * 2
        assert sorted(n.split("-", 2)[2].removesuffix(".dcm") for n in gw.pending()) == sorted(
            sop_uid(f) for f in files[:4]
        )
        assert list((gw.spool / "incoming").iterdir()) == [], "nothing half-kept of the refused"
        full = gw.events("spool_full")
        assert [line["sop_instance_uid"] for line in full] == [sop_uid(f) for f in files[4:]]
    finally:
        gw.stop()


def test_a_file_the_service_refuses_ends_in_failed_with_the_services_reason(stack: Stack, tmp_path: Path) -> None:
    key = stack.new_clinic("Gateway refused")
    gw = gateway(tmp_path / "gw", stack.base_url, key).start()
    try:
        good = tmp_path / "good.dcm"
        good.write_bytes(dicom_files.instance())
        no_uid = tmp_path / "no-uid.dcm"
        no_uid.write_bytes(dicom_files.without(dicom_files.instance(), "SOPInstanceUID"))
        garbage = tmp_path / "garbage.dcm"  # a valid file meta, then bytes that are no dataset
        garbage.write_bytes(dicom_files.instance())
        meta_end = 132 + 12 + read_file_meta_info(garbage).FileMetaInformationGroupLength
        garbage.write_bytes(garbage.read_bytes()[:meta_end] + b"\xff\xfe\xfd" * 40)
        assert send_raw_files(gw.port, [good, no_uid, garbage]) == [SUCCESS] * 3

        wait_for(lambda: len(gw.failed()) == 2 and not gw.pending(), 60, "the refusals", gw)
        for name in gw.failed():
            reason = json.loads((gw.spool / "failed" / name).with_suffix(".json").read_text())
            assert reason["source"] == "service"
            status, upload = stack.json("GET", f"/studies/uploads/{reason['upload_id']}", key=key)
            assert status == 200
            assert reason["reason"] == upload["files"][reason["index"]]["reason"], "the service's own words"
        reasons = sorted(json.loads(p.read_text())["reason"] for p in (gw.spool / "failed").glob("*.json"))
        assert any("SOP Instance UID" in r for r in reasons), reasons
        wait_for(gw.drained, 30, "the spool to settle", gw)
        assert [u["outcome"] for u in gw.events("upload")].count("failed") == 2
    finally:
        gw.stop()
