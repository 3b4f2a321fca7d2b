"""Ingest use cases on in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from chalicelib.domain.dicom_header import MAX_SEQUENCE_DEPTH, Failure
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.studies import FileStatus, Instance, StudyQuery, quarantine_key
from chalicelib.services import ingest
from chalicelib.services.deps import Deps
from tests import dicom_files, patient_data
from tests.fakes import FakeClock, FakeThumbnailer, InMemoryObjectStore, InMemoryStudyIndex

CLINIC, OTHER = "cl_00000000000000a1", "cl_00000000000000b2"


def objects(deps: Deps) -> InMemoryObjectStore:
    assert isinstance(deps.objects, InMemoryObjectStore)
    return deps.objects


def test_stow_indexes_each_instance_and_summarizes_the_study(deps: Deps) -> None:
    study = "1.2.826.0.1.3680043.8.498.1"
    parts = [dicom_files.instance(study_uid=study, frames=3), dicom_files.instance(study_uid=study, modality="SR")]
    upload = ingest.store_instances(CLINIC, parts, deps)
    assert [f.status for f in upload.files] == [FileStatus.STORED, FileStatus.STORED]
    summary = deps.studies.get_study(CLINIC, study)
    assert summary.number_of_instances == 2
    assert summary.number_of_series == 2
    assert summary.modalities == ("SR", "US")
    assert summary.patient_telephone_numbers == (patient_data.PHONES[0],)
    assert summary.patient_emails == (patient_data.EMAILS[0],)
    assert deps.uploads.get(CLINIC, upload.upload_id).files == upload.files


def test_sending_the_same_instance_again_is_idempotent(deps: Deps, clock: FakeClock) -> None:
    data = dicom_files.instance(study_uid="1.2.3.4", sop_uid="1.2.3.4.5", series_uid="1.2.3.4.6")
    first = ingest.store_instances(CLINIC, [data], deps)
    clock.advance(minutes=5)
    second = ingest.store_instances(CLINIC, [data], deps)
    assert deps.studies.get_study(CLINIC, "1.2.3.4").number_of_instances == 1
    (instance,) = deps.studies.instances(CLINIC, "1.2.3.4")
    assert instance.object_key == second.files[0].object_key
    assert objects(deps).keys("ingest-bucket", "uploads/") == [second.files[0].object_key]
    assert first.files[0].object_key != second.files[0].object_key


BAD_FILES = dicom_files.bad_files()


@pytest.mark.parametrize(("data", "reason"), BAD_FILES)
def test_bad_uploads_fail_in_one_delivery_with_their_reason(deps: Deps, data: bytes, reason: str) -> None:
    requested = ingest.request_uploads(CLINIC, 1, deps)
    key = requested.upload.files[0].object_key
    objects(deps).put("ingest-bucket", key, data, "application/dicom")
    file = ingest.ingest_object(key, deps)  # returns, does not raise: the message is not retried
    assert file is not None
    assert file.status is FileStatus.FAILED
    assert reason in (file.reason or "")
    assert objects(deps).keys("ingest-bucket", "quarantine/") == [quarantine_key(key)]
    assert deps.studies.search(CLINIC, StudyQuery()) == []


@pytest.mark.parametrize(("data", "reason"), BAD_FILES)
def test_bad_files_are_quarantined_with_a_reason_and_never_indexed(deps: Deps, data: bytes, reason: str) -> None:
    good = dicom_files.instance(study_uid="9.9.9")
    upload = ingest.store_instances(CLINIC, [data, good], deps)
    bad_file, good_file = upload.files
    assert bad_file.status is FileStatus.FAILED
    assert reason in (bad_file.reason or "")
    assert good_file.status is FileStatus.STORED
    assert objects(deps).keys("ingest-bucket", "quarantine/") == [quarantine_key(bad_file.object_key)]
    assert objects(deps).open("ingest-bucket", quarantine_key(bad_file.object_key)).read() == data
    assert deps.uploads.get(CLINIC, upload.upload_id).files[0].reason == bad_file.reason
    assert deps.studies.search(CLINIC, StudyQuery()) == [deps.studies.get_study(CLINIC, "9.9.9")]


def test_stow_to_a_study_refuses_instances_of_another_study(deps: Deps) -> None:
    upload = ingest.store_instances(
        CLINIC,
        [dicom_files.instance(study_uid="1.1"), dicom_files.instance(study_uid="2.2")],
        deps,
        study_instance_uid="1.1",
    )
    assert [f.status for f in upload.files] == [FileStatus.STORED, FileStatus.FAILED]
    assert "another study" in (upload.files[1].reason or "")


def test_an_empty_or_oversized_stow_is_refused(deps: Deps) -> None:
    with pytest.raises(InvalidInput):
        ingest.store_instances(CLINIC, [], deps)


def test_pre_signed_uploads_are_pending_until_the_worker_indexes_them(deps: Deps) -> None:
    requested = ingest.request_uploads(CLINIC, 2, deps)
    assert [f.status for f in requested.upload.files] == [FileStatus.PENDING, FileStatus.PENDING]
    assert requested.posts[0].fields["key"] == requested.upload.files[0].object_key
    assert requested.posts[0].fields["max_bytes"] == str(ingest.MAX_UPLOAD_BYTES)

    key = requested.upload.files[0].object_key
    objects(deps).put("ingest-bucket", key, dicom_files.instance(study_uid="7.7", frames=5), "application/dicom")
    file = ingest.ingest_object(key, deps)
    assert file is not None
    assert file.status is FileStatus.STORED
    assert [f.status for f in deps.uploads.get(CLINIC, requested.upload.upload_id).files] == [
        FileStatus.STORED,
        FileStatus.PENDING,
    ]
    (instance,) = deps.studies.instances(CLINIC, "7.7")
    assert instance.thumbnail_key is not None
    assert objects(deps).open("ingest-bucket", instance.thumbnail_key).read().startswith(b"\xff\xd8")


@pytest.mark.parametrize("depth", [MAX_SEQUENCE_DEPTH + 1, 1000])
def test_a_deeply_nested_upload_fails_in_one_delivery(deps: Deps, depth: int) -> None:
    requested = ingest.request_uploads(CLINIC, 1, deps)
    key = requested.upload.files[0].object_key
    objects(deps).put("ingest-bucket", key, dicom_files.nested_sequences(depth), "application/dicom")
    file = ingest.ingest_object(key, deps)  # returns (no exception): the message is not retried
    assert file is not None
    assert file.status is FileStatus.FAILED
    assert objects(deps).keys("ingest-bucket", "quarantine/") == [quarantine_key(key)]


def test_a_part_10_stream_without_preamble_is_stored_both_ways(deps: Deps) -> None:
    """What pydicom writes for an in-memory Dataset, and so what dicomweb-client's store_instances sends."""
    (file,) = ingest.store_instances(CLINIC, [dicom_files.headless(dicom_files.instance(study_uid="5.5"))], deps).files
    assert file.status is FileStatus.STORED
    requested = ingest.request_uploads(CLINIC, 1, deps)
    key = requested.upload.files[0].object_key
    objects(deps).put("ingest-bucket", key, dicom_files.headless(dicom_files.instance(study_uid="5.6")), "x")
    uploaded = ingest.ingest_object(key, deps)
    assert uploaded is not None
    assert uploaded.status is FileStatus.STORED
    (instance,) = deps.studies.instances(CLINIC, "5.6")
    assert instance.thumbnail_key is not None


def test_noise_without_preamble_is_still_not_dicom(deps: Deps) -> None:
    noise = b"\x02\x00\x00\x00XX" + bytes(200)
    (file,) = ingest.store_instances(CLINIC, [noise], deps).files
    assert file.status is FileStatus.FAILED


def test_sequences_as_deep_as_the_cap_are_stored(deps: Deps) -> None:
    (file,) = ingest.store_instances(CLINIC, [dicom_files.nested_sequences(MAX_SEQUENCE_DEPTH)], deps).files
    assert file.status is FileStatus.STORED


def test_the_worker_may_see_an_object_twice(deps: Deps) -> None:
    requested = ingest.request_uploads(CLINIC, 1, deps)
    key = requested.upload.files[0].object_key
    objects(deps).put("ingest-bucket", key, b"not dicom", "application/dicom")
    assert ingest.ingest_object(key, deps) == replace(
        requested.upload.files[0],
        status=FileStatus.FAILED,
        reason=deps.uploads.get(CLINIC, requested.upload.upload_id).files[0].reason,
        failure=Failure.CANNOT_UNDERSTAND,
    )
    # The second delivery finds the object quarantined already and changes nothing.
    assert ingest.ingest_object(key, deps) == requested.upload.files[0]
    assert deps.uploads.get(CLINIC, requested.upload.upload_id).files[0].status is FileStatus.FAILED


def test_keys_we_did_not_hand_out_are_ignored(deps: Deps) -> None:
    assert ingest.ingest_object("thumbnails/cl_1/x.jpg", deps) is None
    assert ingest.ingest_object("uploads/../../etc/passwd", deps) is None


def test_instances_without_pixels_get_no_thumbnail(deps: Deps) -> None:
    thumbnails = deps.thumbnails
    assert isinstance(thumbnails, FakeThumbnailer)
    requested = ingest.request_uploads(CLINIC, 1, deps)
    key = requested.upload.files[0].object_key
    data = dicom_files.without(
        dicom_files.without(dicom_files.without(dicom_files.instance(), "PixelData"), "Rows"), "Columns"
    )
    objects(deps).put("ingest-bucket", key, data, "application/dicom")
    file = ingest.ingest_object(key, deps)
    assert file is not None
    assert file.status is FileStatus.STORED
    assert thumbnails.rendered == 0


@pytest.mark.parametrize("count", [0, -1, 501])
def test_upload_counts_are_bounded(deps: Deps, count: int) -> None:
    with pytest.raises(InvalidInput):
        ingest.request_uploads(CLINIC, count, deps)


def test_a_clinic_never_sees_another_clinics_studies_or_uploads(deps: Deps) -> None:
    upload = ingest.store_instances(CLINIC, [dicom_files.instance(study_uid="5.5")], deps)
    with pytest.raises(NotFound):
        ingest.study_detail(OTHER, "5.5", deps)
    with pytest.raises(NotFound):
        ingest.get_upload(OTHER, upload.upload_id, deps)
    assert ingest.search_studies(OTHER, StudyQuery(), deps) == []
    assert ingest.search_studies(OTHER, StudyQuery(text="lindqvist"), deps) == []
    assert len(ingest.search_studies(CLINIC, StudyQuery(text="lindqvist"), deps)) == 1


def test_study_detail_has_short_lived_thumbnail_urls(deps: Deps) -> None:
    requested = ingest.request_uploads(CLINIC, 1, deps)
    key = requested.upload.files[0].object_key
    objects(deps).put("ingest-bucket", key, dicom_files.instance(study_uid="6.6"), "application/dicom")
    ingest.ingest_object(key, deps)
    detail = ingest.study_detail(CLINIC, "6.6", deps)
    (url,) = detail.thumbnail_urls.values()
    assert f"expires={ingest.THUMBNAIL_URL_SECONDS}" in url


def test_a_study_list_shows_its_first_thumbnail_and_reads_no_instances(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested = ingest.request_uploads(CLINIC, 2, deps)
    first, second = (f.object_key for f in requested.upload.files)
    for key, sop in ((first, "6.7.1.1"), (second, "6.7.1.2")):
        data = dicom_files.instance(study_uid="6.7", series_uid="6.7.1", sop_uid=sop)
        objects(deps).put("ingest-bucket", key, data, "application/dicom")
    ingest.ingest_object(second, deps)  # the workers render the second image's thumbnail first
    assert deps.studies.get_study(CLINIC, "6.7").cover_thumbnail_key == f"thumbnails/{CLINIC}/6.7.1.2.jpg"
    ingest.ingest_object(first, deps)
    study = deps.studies.get_study(CLINIC, "6.7")
    assert study.cover_thumbnail_key == f"thumbnails/{CLINIC}/6.7.1.1.jpg"  # the study's first image stands for it

    def no_reads(*_: object) -> None:
        raise AssertionError("a page of studies must not read their instances")

    monkeypatch.setattr(deps.studies, "instances", no_reads)
    (url,) = ingest.cover_thumbnails(CLINIC, [study], deps).values()
    assert f"thumbnails/{CLINIC}/6.7.1.1.jpg" in url
    assert ingest.cover_thumbnails(OTHER, [study], deps) == {}  # never another clinic's


class OtherWorkerBetween(InMemoryStudyIndex):
    """A study index where another worker stores an instance of the study just after ours reads the list."""

    def __init__(self, other: Callable[[], None]) -> None:
        super().__init__()
        self.other: Callable[[], None] | None = other

    def instances(self, clinic_id: str, study_instance_uid: str) -> list[Instance]:
        read = super().instances(clinic_id, study_instance_uid)
        if self.other is not None:
            other, self.other = self.other, None
            other()
        return read


class OtherThumbnailFirst(InMemoryStudyIndex):
    """A study index where another worker renders its thumbnail, whole, just before ours is stored."""

    def __init__(self) -> None:
        super().__init__()
        self.other: Callable[[], None] | None = None

    def put_instance(self, instance: Instance) -> Instance | None:
        if instance.thumbnail_key is not None and self.other is not None:
            other, self.other = self.other, None
            other()
        return super().put_instance(instance)


@pytest.mark.parametrize("ours", ["6.8.1.1", "6.8.1.2"])
def test_two_workers_rendering_thumbnails_side_by_side_leave_the_first_image_as_the_cover(
    deps: Deps, ours: str
) -> None:
    index = OtherThumbnailFirst()
    racing = replace(deps, studies=index)
    requested = ingest.request_uploads(CLINIC, 2, racing)
    keys = {}
    for file, sop in zip(requested.upload.files, ("6.8.1.1", "6.8.1.2"), strict=True):
        data = dicom_files.instance(study_uid="6.8", series_uid="6.8.1", sop_uid=sop)
        objects(deps).put("ingest-bucket", file.object_key, data, "application/dicom")
        ingest.index_file(CLINIC, requested.upload.upload_id, file, racing)
        keys[sop] = file.object_key
    (theirs,) = set(keys) - {ours}
    index.other = lambda: ingest.ingest_object(keys[theirs], racing)  # between our read and our put
    ingest.ingest_object(keys[ours], racing)
    assert index.other is None
    assert [i.thumbnail_key is not None for i in index.instances(CLINIC, "6.8")] == [True, True]
    assert index.get_study(CLINIC, "6.8").cover_thumbnail_key == f"thumbnails/{CLINIC}/6.8.1.1.jpg"


def test_two_workers_indexing_one_study_side_by_side_count_both_instances(deps: Deps) -> None:
    study = "1.2.826.0.1.3680043.8.498.77"
    first, second = (dicom_files.instance(study_uid=study, series_uid=f"{study}.{n}") for n in (1, 2))
    index = OtherWorkerBetween(lambda: ingest.store_instances(CLINIC, [second], racing))
    racing = replace(deps, studies=index)
    ingest.store_instances(CLINIC, [first], racing)
    summary = index.get_study(CLINIC, study)
    assert summary.number_of_instances == 2  # not the one our worker saw before the other's write
    assert summary.number_of_series == 2
