"""The share worker's heavy part: from a study's stored instances to the files a patient gets.

Per instance, one at a time so that /tmp and memory hold one instance's files: download, anonymize
(PS3.15 Annex E, pixels cleaned where the ultrasound regions allow), render patient-friendly files from
the *anonymized* copy (JPEG/PNG per frame, MP4 for a cine, the PDF of an encapsulated report, a structured
report as a page and a PDF), upload, add to the ZIP, delete. What cannot be anonymized is still shared, as
it is, and the share then needs a password; the reasons are kept (they name rules, never patient values).
"""

from __future__ import annotations

import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chalicelib.domain.errors import NotFound
from chalicelib.domain.shares import Share, SharedFile
from chalicelib.domain.studies import Instance
from chalicelib.services.deps import Deps

#: Formats already compressed gain nothing from deflate; store them.
_STORED_IN_ZIP = {"image/jpeg", "image/png", "video/mp4", "application/pdf"}


@dataclass(frozen=True)
class Prepared:
    """What the worker made of a share's instances."""

    files: tuple[SharedFile, ...]
    needs_password: bool
    reasons: tuple[str, ...]


def share_key(share_id: str, name: str) -> str:
    """Where a file of a share lives in the share bucket."""
    return f"shares/{share_id}/{name}"


def prepare_files(
    share: Share,
    instances: list[Instance],
    deps: Deps,
    workdir: Path,
    publish: Callable[[Prepared], None] | None = None,
) -> Prepared:
    """Anonymize and render every instance, upload the results, the DICOM files and a ZIP of them all.

    The pictures and videos come first: ``publish`` is called as soon as they are uploaded, so the
    patient can be sent the link while the DICOM files and the ZIP (the slow part: every byte of every
    instance) are still on their way.
    """
    # A fresh key per preparation: UIDs and shifted dates agree within this share and with no other.
    key = secrets.token_bytes(32)
    prepared: list[_Instance] = []
    for number, instance in enumerate(instances, start=1):
        prepared.append(_prepare_instance(share, instance, number, key, deps, workdir))
    pictures = [f for p in prepared for f in p.pictures]
    reasons = tuple(r for p in prepared for r in p.reasons)
    needs_password = any(p.locked for p in prepared)
    if publish is not None:
        publish(Prepared(tuple(pictures), needs_password, reasons))

    files = list(pictures)
    zip_path = workdir / "all.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for item in prepared:
            for path, name, kind, mime in item.outputs:
                compression = zipfile.ZIP_STORED if mime in _STORED_IN_ZIP else zipfile.ZIP_DEFLATED
                archive.write(path, name, compress_type=compression)
                if kind == "dicom":
                    files.append(_upload(share, path, name, kind, mime, item.sop_instance_uid, deps))
                path.unlink(missing_ok=True)
    files.append(_upload(share, zip_path, "images.zip", "zip", "application/zip", None, deps))
    zip_path.unlink()
    return Prepared(tuple(files), needs_password, reasons)


@dataclass(frozen=True)
class _Instance:
    outputs: list[tuple[Path, str, str, str]]
    pictures: list[SharedFile]
    locked: bool
    reasons: list[str]
    sop_instance_uid: str


def _upload(share: Share, path: Path, name: str, kind: str, mime: str, sop_uid: str | None, deps: Deps) -> SharedFile:
    key = share_key(share.share_id, name)
    deps.objects.upload(deps.buckets.share, key, str(path), mime)
    return SharedFile(key, name, kind, mime, path.stat().st_size, sop_uid)


def _prepare_instance(
    share: Share, instance: Instance, number: int, key: bytes, deps: Deps, workdir: Path
) -> _Instance:
    from chalicelib.domain.anonymization import NotDicom, anonymize_file

    original = workdir / f"{number:04d}-original.dcm"
    anonymized = workdir / f"{number:04d}.dcm"
    deps.objects.download(deps.buckets.ingest, instance.object_key, str(original))
    try:
        report = anonymize_file(original, anonymized, key=key)
    except NotDicom:
        original.unlink()
        return _Instance(
            [], [], False, [f"instance {number}: not readable as DICOM, left out"], instance.sop_instance_uid
        )
    reasons = [f"instance {number}: {r.text}" for r in report.reasons if not report.anonymizable]
    shared = anonymized if report.anonymizable else original
    if report.anonymizable:
        original.unlink()
    outputs: list[tuple[Path, str, str, str]] = [(shared, f"DICOM/IM{number:04d}.dcm", "dicom", "application/dicom")]
    try:
        outputs.extend(_renderings(shared, number, workdir, share, deps))
    except Exception as err:
        reasons.append(f"instance {number}: no picture could be made ({type(err).__name__}); DICOM only")
    pictures = [
        _upload(share, path, name, kind, mime, instance.sop_instance_uid, deps)
        for path, name, kind, mime in outputs
        if kind != "dicom"
    ]
    for path, name, kind, _ in outputs:
        if kind == "video":
            pictures.extend(_poster(share, path, name, instance.sop_instance_uid, deps))
    return _Instance(outputs, pictures, not report.anonymizable, reasons, instance.sop_instance_uid)


#: A cine's poster frame is shown full width on a phone: larger than a chat preview, still small.
POSTER_SIDE = 1280


def _poster(share: Share, video: Path, name: str, sop_uid: str, deps: Deps) -> list[SharedFile]:
    """The picture a cine's tile shows before it plays (not in the ZIP: the video is); none if unreadable."""
    from chalicelib.media.errors import UnreadableMedia
    from chalicelib.media.previews import video_poster

    try:
        data = video_poster(video, max_side=POSTER_SIDE)
    except UnreadableMedia:
        return []
    poster = video.with_suffix(".poster.jpg")
    poster.write_bytes(data)
    uploaded = _upload(share, poster, name.rsplit(".", 1)[0] + "-poster.jpg", "poster", "image/jpeg", sop_uid, deps)
    poster.unlink()
    return [uploaded]


def _renderings(source: Path, number: int, workdir: Path, share: Share, deps: Deps) -> list[tuple[Path, str, str, str]]:
    """The patient-friendly files of one DICOM file: stills, an MP4, or a report (an encapsulated PDF as it
    is; a structured report as a page and a PDF, in the share's language)."""
    from chalicelib.media.dicom_file import has_image, read_header
    from chalicelib.media.dicom_render import is_cine, render_cine_mp4, render_stills
    from chalicelib.media.structured_report import is_structured_report

    header = read_header(source)
    if is_structured_report(header):
        return _report(source, number, workdir, share, deps)
    document = getattr(header, "MIMETypeOfEncapsulatedDocument", None)
    if document == "application/pdf":
        from chalicelib.media.dicom_file import read_part10

        pdf = workdir / f"{number:04d}.pdf"
        with source.open("rb") as file:
            pdf.write_bytes(bytes(read_part10(file).EncapsulatedDocument).rstrip(b"\0"))
        return [(pdf, f"report-{number:03d}.pdf", "document", "application/pdf")]
    if not has_image(header):
        return []
    if is_cine(header):
        video = workdir / f"{number:04d}.mp4"
        render_cine_mp4(source, video, header)
        return [(video, f"cine-{number:03d}.mp4", "video", "video/mp4")]
    outputs = []
    for still in render_stills(source, header):
        extension = "png" if still.mime == "image/png" else "jpg"
        path = workdir / f"{number:04d}-{still.index:04d}.{extension}"
        path.write_bytes(still.data)
        suffix = f"-{still.index + 1:03d}" if int(header.get("NumberOfFrames", 1) or 1) > 1 else ""
        outputs.append((path, f"image-{number:03d}{suffix}.{extension}", "image", still.mime))
    return outputs


def _report(source: Path, number: int, workdir: Path, share: Share, deps: Deps) -> list[tuple[Path, str, str, str]]:
    """A structured report as a readable, printable page and as a PDF (its words from the SR, never logged)."""
    from chalicelib.media.structured_report import read_report, report_pdf
    from chalicelib.templating import render

    report = read_report(source)
    try:
        clinic_name = deps.clinics.get(share.clinic_id).name
    except NotFound:
        clinic_name = ""
    # The page is opened from the share bucket: its style sheet comes from the service's own address.
    assets = f"{deps.site.public_base_url}/assets"
    html = workdir / f"{number:04d}.html"
    html.write_text(render("share_report.html", share.language, report=report, clinic_name=clinic_name, assets=assets))
    pdf = workdir / f"{number:04d}-report.pdf"
    subtitle = render("share_report_subtitle.txt", share.language).strip()
    pdf.write_bytes(report_pdf(report, clinic_name, subtitle))
    return [
        (html, f"report-{number:03d}.html", "report", "text/html; charset=utf-8"),
        (pdf, f"report-{number:03d}.pdf", "document", "application/pdf"),
    ]
