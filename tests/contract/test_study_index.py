"""The in-memory study index, uploads and object store pass the same checks as DynamoDB and S3 (on moto)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from chalicelib import wiring
from chalicelib.domain.dicom_header import Failure, read_header
from chalicelib.domain.errors import NotFound, StaleWrite
from chalicelib.domain.studies import (
    DateRange,
    FileStatus,
    Instance,
    StudyQuery,
    Upload,
    UploadedFile,
    upload_key,
)
from chalicelib.domain.verdicts import NOT_YET_KNOWN, InstanceVerdict, Verdict
from chalicelib.services import ingest
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data
from tests.fakes import FakeClock

pytestmark = pytest.mark.contract
CLINIC, OTHER = "cl_00000000000000a1", "cl_00000000000000b2"


def index_study(deps: Deps, clinic: str, **kwargs: object) -> str:
    clock = FakeClock()
    data = dicom_files.instance(**kwargs)  # type: ignore[arg-type]
    header = read_header(io.BytesIO(data))
    instance = Instance(clinic, header, f"uploads/{clinic}/x/{header.sop_instance_uid}", len(data), clock.now())
    deps.studies.put_instance(instance)
    ingest.refresh_summary(clinic, header.study_instance_uid, clock.now(), deps)
    return header.study_instance_uid


def test_instances_round_trip_and_replacement(real_or_fake: Deps) -> None:
    deps = real_or_fake
    data = dicom_files.instance(study_uid="1.2.3", series_uid="1.2.3.1", sop_uid="1.2.3.1.1", frames=4)
    header = read_header(io.BytesIO(data))
    now = FakeClock().now()
    first = Instance(CLINIC, header, "uploads/a", len(data), now)
    assert deps.studies.put_instance(first) is None
    second = replace(first, object_key="uploads/b", stored_at=now + timedelta(minutes=1), thumbnail_key="thumbnails/t")
    assert deps.studies.put_instance(second) == first
    assert deps.studies.instances(CLINIC, "1.2.3") == [second]
    assert deps.studies.instances(OTHER, "1.2.3") == []


def test_instances_keep_their_verdict_and_rows_without_one_read_as_not_yet_known(real_or_fake: Deps) -> None:
    deps = real_or_fake
    now = FakeClock().now()
    data = dicom_files.instance(study_uid="1.2.4", series_uid="1.2.4.1", sop_uid="1.2.4.1.1")
    header = read_header(io.BytesIO(data))
    decided = Instance(CLINIC, header, "uploads/a", len(data), now, verdict=InstanceVerdict(Verdict.PASSWORD, "x"))
    deps.studies.put_instance(decided)
    assert deps.studies.instances(CLINIC, "1.2.4") == [decided]
    older = Instance(CLINIC, header, "uploads/a", len(data), now)  # indexed before verdicts were kept
    deps.studies.put_instance(older)
    assert deps.studies.instances(CLINIC, "1.2.4")[0].verdict == NOT_YET_KNOWN


def test_a_row_written_before_verdicts_were_kept_reads_as_not_yet_known(real_deps: Deps) -> None:
    from chalicelib.adapters.dynamo.studies import InstanceModel

    data = dicom_files.instance(study_uid="1.2.5", series_uid="1.2.5.1", sop_uid="1.2.5.1.1")
    header = read_header(io.BytesIO(data))
    decided = InstanceVerdict(Verdict.ANONYMIZED, "x")
    real_deps.studies.put_instance(Instance(CLINIC, header, "uploads/a", len(data), FakeClock().now(), verdict=decided))
    for row in InstanceModel.query(f"{CLINIC}#1.2.5"):
        row.update(actions=[InstanceModel.verdict.remove(), InstanceModel.verdict_reason.remove()])
    assert real_deps.studies.instances(CLINIC, "1.2.5")[0].verdict == NOT_YET_KNOWN


def test_a_summary_made_from_an_outdated_read_is_refused(real_or_fake: Deps) -> None:
    deps = real_or_fake
    uid = index_study(deps, CLINIC, study_uid="4.5.7")
    stored = deps.studies.get_study(CLINIC, uid)
    assert stored.version == 1
    newer = deps.studies.put_study(replace(stored, number_of_instances=2))
    assert newer.version == 2
    with pytest.raises(StaleWrite):
        deps.studies.put_study(replace(stored, number_of_instances=1))  # read at version 1
    with pytest.raises(StaleWrite):
        deps.studies.put_study(replace(stored, version=0))  # "new", but it exists
    assert deps.studies.get_study(CLINIC, uid) == newer


def test_a_summary_keeps_its_cover_thumbnail(real_or_fake: Deps) -> None:
    deps = real_or_fake
    uid = index_study(deps, CLINIC, study_uid="4.5.8")
    assert deps.studies.get_study(CLINIC, uid).cover_thumbnail_key is None
    stored = deps.studies.get_study(CLINIC, uid)
    covered = deps.studies.put_study(replace(stored, cover_thumbnail_key="thumbnails/cl/4.5.8.1.jpg"))
    assert deps.studies.get_study(CLINIC, uid) == covered
    assert deps.studies.search(CLINIC, StudyQuery(limit=10))[0].cover_thumbnail_key == "thumbnails/cl/4.5.8.1.jpg"


def test_studies_round_trip_and_are_scoped_to_the_clinic(real_or_fake: Deps) -> None:
    deps = real_or_fake
    uid = index_study(deps, CLINIC, study_uid="4.5.6")
    study = deps.studies.get_study(CLINIC, uid)
    assert study.patient_telephone_numbers == (patient_data.PHONES[0],)
    with pytest.raises(NotFound):
        deps.studies.get_study(OTHER, uid)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (StudyQuery(), ["newest", "middle", "oldest"]),
        (StudyQuery(patient_name="lindqvist*"), ["newest", "oldest"]),
        (StudyQuery(patient_name="*BERG*"), ["middle"]),
        (StudyQuery(patient_id=patient_data.PATIENT_IDS[0]), ["middle"]),
        (StudyQuery(accession_number="ACC-2"), ["middle"]),
        (StudyQuery(study_date=DateRange("20250101", "20251231")), ["middle"]),
        (StudyQuery(study_date=DateRange(None, "20251231")), ["middle", "oldest"]),
        (StudyQuery(text="astrid"), ["newest", "oldest"]),
        (StudyQuery(text="ÖBERG bertil"), ["middle"]),
        (StudyQuery(text="acc-3"), ["newest"]),
        # Words with no literal start: nothing to narrow an index read by, and nothing matches them.
        (StudyQuery(text="*****"), []),
        (StudyQuery(text="^ ="), ["newest", "middle", "oldest"]),
        (StudyQuery(patient_name="*"), ["newest", "middle", "oldest"]),
        (StudyQuery(patient_name="?*b*r*g?*"), ["middle"]),
        (StudyQuery(patient_name="ö?erg bertil"), ["middle"]),
        (StudyQuery(modality="CT"), ["middle"]),
        (StudyQuery(limit=1, offset=1), ["middle"]),
        (StudyQuery(study_instance_uid="1.1.2"), ["middle"]),
    ],
)
def test_search(real_or_fake: Deps, query: StudyQuery, expected: list[str]) -> None:
    deps = real_or_fake
    names = {
        index_study(deps, CLINIC, study_uid="1.1.1", study_date="20240105", accession="ACC-1"): "oldest",
        index_study(deps, CLINIC, study_uid="1.1.2", study_date="20250610", accession="ACC-2", modality="CT",
                    patient_name="Öberg^Bertil", patient_id=patient_data.PATIENT_IDS[0]): "middle",
        index_study(deps, CLINIC, study_uid="1.1.3", study_date="20261120", accession="ACC-3"): "newest",
    }  # fmt: skip
    index_study(deps, OTHER, study_uid="1.1.4", study_date="20261121")
    assert [names[s.study_instance_uid] for s in deps.studies.search(CLINIC, query)] == expected


def test_uploads_round_trip(real_or_fake: Deps) -> None:
    deps = real_or_fake
    now = FakeClock().now()
    files = tuple(UploadedFile(i, upload_key(CLINIC, "up_00000000000000000001", i)) for i in range(3))
    upload = Upload("up_00000000000000000001", CLINIC, now, now + timedelta(days=30), files)
    deps.uploads.add(upload)
    assert deps.uploads.get(CLINIC, upload.upload_id) == upload
    stored = replace(files[1], status=FileStatus.STORED, study_instance_uid="1.2", sop_instance_uid="1.2.3",
                     sop_class_uid="1.2.840.10008.5.1.4.1.1.7", series_instance_uid="1.2.9")  # fmt: skip
    deps.uploads.save_file(upload.upload_id, stored)
    failed = replace(
        files[2], status=FileStatus.FAILED, reason="The file is not DICOM", failure=Failure.CANNOT_UNDERSTAND
    )
    deps.uploads.save_file(upload.upload_id, failed)
    assert deps.uploads.get(CLINIC, upload.upload_id).files == (files[0], stored, failed)
    with pytest.raises(NotFound):
        deps.uploads.get(OTHER, upload.upload_id)
    with pytest.raises(NotFound):
        deps.uploads.save_file("up_missing", failed)


def test_objects_round_trip_ranged_reads_moves_and_deletes(real_or_fake: Deps) -> None:
    store, bucket = real_or_fake.objects, real_or_fake.buckets.ingest
    data = bytes(range(256)) * 4096  # 1 MiB
    store.put(bucket, "uploads/a", data, "application/dicom")
    assert store.size(bucket, "uploads/a") == len(data)
    with store.open(bucket, "uploads/a") as reader:
        reader.seek(300_000)
        assert reader.read(10) == data[300_000:300_010]
        reader.seek(-5, io.SEEK_END)
        assert reader.read() == data[-5:]
    store.move(bucket, "uploads/a", "quarantine/a")
    with pytest.raises(NotFound):
        store.size(bucket, "uploads/a")
    with store.open(bucket, "quarantine/a") as reader:
        assert reader.read() == data
    store.delete(bucket, "quarantine/a")
    store.delete(bucket, "quarantine/a")
    with pytest.raises(NotFound):
        store.open(bucket, "quarantine/a")
    with pytest.raises(NotFound):
        store.move(bucket, "missing", "elsewhere")


def test_files_go_up_and_down_without_passing_through_memory(real_or_fake: Deps, tmp_path: Path) -> None:
    store, bucket = real_or_fake.objects, real_or_fake.buckets.share
    source = tmp_path / "up.bin"
    source.write_bytes(b"x" * 300_000)
    store.upload(bucket, "shares/sh_1/a.bin", str(source), "application/octet-stream")
    store.download(bucket, "shares/sh_1/a.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == source.read_bytes()
    with pytest.raises(NotFound):
        store.download(bucket, "shares/sh_1/missing", str(tmp_path / "missing.bin"))


def test_presigned_posts_name_the_key_and_the_size_limit(real_or_fake: Deps) -> None:
    post = real_or_fake.objects.presigned_post("ingest-bucket", "uploads/k", max_bytes=1024, expires_s=60)
    assert post.fields["key"] == "uploads/k"
    assert post.url


def test_s3_presigned_post_and_get_work_over_http(aws: None) -> None:
    deps = wiring.build()
    bucket = deps.buckets.ingest
    post = deps.objects.presigned_post(bucket, "uploads/posted", max_bytes=1024, expires_s=60)
    response = requests.post(post.url, data=post.fields, files={"file": ("x.dcm", b"DICM" * 10)}, timeout=10)
    assert response.status_code in (200, 204)
    assert deps.objects.size(bucket, "uploads/posted") == 40
    url = deps.objects.presigned_get(bucket, "uploads/posted", expires_s=60, filename="bild å.dcm", inline=False)
    got = requests.get(url, timeout=10)
    assert got.content == b"DICM" * 10
    assert (
        got.headers["Content-Disposition"] == "attachment; filename=\"bild _.dcm\"; filename*=UTF-8''bild%20%C3%A5.dcm"
    )


def test_a_dicom_header_is_read_through_the_store_without_fetching_the_pixels(real_or_fake: Deps) -> None:
    store, bucket = real_or_fake.objects, real_or_fake.buckets.ingest
    data = dicom_files.instance(frames=40, rows=240, columns=320)
    store.put(bucket, "uploads/cine", data, "application/dicom")
    with store.open(bucket, "uploads/cine") as reader:
        header = read_header(reader)
    assert header.number_of_frames == 40
    assert header.has_pixel_data
