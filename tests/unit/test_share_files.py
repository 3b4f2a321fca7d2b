"""The share worker's preparation on fakes, with the real anonymization engine and media library."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

from pydicom import dcmread
from pydicom.uid import UltrasoundImageStorage

from chalicelib.domain import links
from chalicelib.domain.shares import Share
from chalicelib.services import ingest
from chalicelib.services.deps import Deps
from chalicelib.services.share_files import prepare_files
from tests import dicom_files, patient_data
from tests.fakes import FakeClock, InMemoryObjectStore
from tests.unit.media.test_structured_report import pdf_streams

CLINIC = "cl_00000000000000a1"
STUDY = "1.2.826.0.1.3680043.8.498.500"


def a_share(clock: FakeClock) -> Share:
    return Share(
        "sh_0000000000000000000a",
        CLINIC,
        STUDY,
        None,
        (),
        "sv",
        links.token_hash(links.new_token()),
        links.new_nonce(),
        clock.now(),
        clock.now() + timedelta(days=90),
    )


def test_instances_become_anonymized_dicom_pictures_video_and_a_zip(
    deps: Deps, clock: FakeClock, tmp_path: Path
) -> None:
    parts = [
        dicom_files.instance(study_uid=STUDY, frames=12, burned_in="NO"),
        dicom_files.instance(study_uid=STUDY, sop_class=UltrasoundImageStorage, us_region=True),
    ]
    ingest.store_instances(CLINIC, parts, deps)
    prepared = prepare_files(a_share(clock), deps.studies.instances(CLINIC, STUDY), deps, tmp_path)

    assert not prepared.needs_password
    kinds = sorted(f.kind for f in prepared.files)
    assert kinds == ["dicom", "dicom", "image", "poster", "video", "zip"]
    store = deps.objects
    assert isinstance(store, InMemoryObjectStore)
    (zip_file,) = [f for f in prepared.files if f.kind == "zip"]
    with zipfile.ZipFile(io.BytesIO(store.open("share-bucket", zip_file.key).read())) as archive:
        names = sorted(archive.namelist())
        # The poster only dresses the video's tile: the ZIP has the video itself.
        assert names == sorted(f.name for f in prepared.files if f.kind not in ("zip", "poster"))
        for name in names:
            data = archive.read(name)
            assert patient_data.leaked(data.decode("latin-1")) == [], name
            if name.endswith(".dcm"):
                ds = dcmread(io.BytesIO(data))
                assert ds.PatientIdentityRemoved == "YES"
                assert ds.StudyInstanceUID != STUDY
    (video,) = [f for f in prepared.files if f.kind == "video"]
    assert store.open("share-bucket", video.key).read()[4:8] == b"ftyp"
    (poster,) = [f for f in prepared.files if f.kind == "poster"]
    assert (poster.sop_instance_uid, poster.mime) == (video.sop_instance_uid, "image/jpeg")
    assert store.open("share-bucket", poster.key).read()[:3] == b"\xff\xd8\xff"
    assert list(tmp_path.iterdir()) == []


def test_what_cannot_be_anonymized_is_shared_behind_a_password(deps: Deps, clock: FakeClock, tmp_path: Path) -> None:
    ingest.store_instances(CLINIC, [dicom_files.instance(study_uid=STUDY, burned_in="YES")], deps)
    prepared = prepare_files(a_share(clock), deps.studies.instances(CLINIC, STUDY), deps, tmp_path)
    assert prepared.needs_password
    assert prepared.reasons
    assert patient_data.leaked(" ".join(prepared.reasons)) == []


def test_a_structured_report_becomes_a_page_and_a_pdf_behind_the_password(
    deps: Deps, clock: FakeClock, tmp_path: Path
) -> None:
    ingest.store_instances(CLINIC, [dicom_files.structured_report(study_uid=STUDY)], deps)
    prepared = prepare_files(a_share(clock), deps.studies.instances(CLINIC, STUDY), deps, tmp_path)
    assert prepared.needs_password  # an SR is never anonymized: its page and PDF stay behind the same lock
    by_kind = {f.kind: f for f in prepared.files}
    assert sorted(by_kind) == ["dicom", "document", "report", "zip"]
    assert (by_kind["report"].name, by_kind["report"].mime) == ("report-001.html", "text/html; charset=utf-8")
    assert (by_kind["document"].name, by_kind["document"].mime) == ("report-001.pdf", "application/pdf")
    store = deps.objects
    assert isinstance(store, InMemoryObjectStore)
    page = store.open("share-bucket", by_kind["report"].key).read().decode()
    assert '<html lang="sv">' in page  # the share's language
    assert "<h2>Findings</h2>" in page
    assert "Liver of normal size &amp; shape &lt;ok&gt;." in page  # the report's words are text, never markup
    assert 'href="https://share.example.test/assets/share.css"' in page  # opened from the bucket
    pdf = store.open("share-bucket", by_kind["document"].key).read()
    assert pdf.startswith(b"%PDF-")
    assert b"Rapporten ur originalfilen" in b"".join(pdf_streams(pdf))  # the share's language in the PDF too
    assert list(tmp_path.iterdir()) == []
