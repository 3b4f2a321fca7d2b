"""The share worker's heavy part: from a study's stored instances to the files a patient gets.

Per instance, one at a time so that /tmp and memory hold one instance's files: download, anonymize
(PS3.15 Annex E, pixels cleaned where the ultrasound regions allow), render patient-friendly files from
the *anonymized* copy (JPEG/PNG per frame, MP4 for a cine, the PDF of an encapsulated report), upload,
add to the ZIP, delete. What cannot be anonymized is still shared, as it is, and the share then needs a
password; the reasons are kept (they name rules, never patient values).
"""

from __future__ import annotations

import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

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


def prepare_files(share: Share, instances: list[Instance], deps: Deps, workdir: Path) -> Prepared:
    """Anonymize and render every instance, upload the results and a ZIP of them all."""
    # A fresh key per preparation: UIDs and shifted dates agree within this share and with no other.
    key = secrets.token_bytes(32)
    files: list[SharedFile] = []
    reasons: list[str] = []
    needs_password = False
    zip_path = workdir / "all.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for number, instance in enumerate(instances, start=1):
            made, locked, why = _prepare_instance(share, instance, number, key, deps, workdir, archive)
            files.extend(made)
            reasons.extend(why)
            needs_password = needs_password or locked
    zip_name = "images.zip"
    deps.objects.upload(deps.buckets.share, share_key(share.share_id, zip_name), str(zip_path), "application/zip")
    files.append(
        SharedFile(share_key(share.share_id, zip_name), zip_name, "zip", "application/zip", zip_path.stat().st_size)
    )
    zip_path.unlink()
    return Prepared(tuple(files), needs_password, tuple(reasons))


def _prepare_instance(
    share: Share,
    instance: Instance,
    number: int,
    key: bytes,
    deps: Deps,
    workdir: Path,
    archive: zipfile.ZipFile,
) -> tuple[list[SharedFile], bool, list[str]]:
    from chalicelib.domain.anonymization import NotDicom, anonymize_file

    original = workdir / f"{number:04d}-original.dcm"
    anonymized = workdir / f"{number:04d}.dcm"
    deps.objects.download(deps.buckets.ingest, instance.object_key, str(original))
    try:
        report = anonymize_file(original, anonymized, key=key)
    except NotDicom:
        original.unlink()
        return [], False, [f"instance {number}: not readable as DICOM, left out"]
    reasons = [f"instance {number}: {r.text}" for r in report.reasons if not report.anonymizable]
    shared = anonymized if report.anonymizable else original
    outputs: list[tuple[Path, str, str, str]] = [(shared, f"DICOM/IM{number:04d}.dcm", "dicom", "application/dicom")]
    try:
        outputs.extend(_renderings(shared, number, workdir))
    except Exception as err:
        reasons.append(f"instance {number}: no picture could be made ({type(err).__name__}); DICOM only")
    made = []
    for path, name, kind, mime in outputs:
        object_key = share_key(share.share_id, name)
        deps.objects.upload(deps.buckets.share, object_key, str(path), mime)
        compression = zipfile.ZIP_STORED if mime in _STORED_IN_ZIP else zipfile.ZIP_DEFLATED
        archive.write(path, name, compress_type=compression)
        made.append(SharedFile(object_key, name, kind, mime, path.stat().st_size, instance.sop_instance_uid))
    for path in {original, anonymized, *(p for p, *_ in outputs)}:
        path.unlink(missing_ok=True)
    return made, not report.anonymizable, reasons


def _renderings(source: Path, number: int, workdir: Path) -> list[tuple[Path, str, str, str]]:
    """The patient-friendly files of one DICOM file: stills, an MP4, or a report's PDF."""
    from chalicelib.media.dicom_frames import has_image
    from chalicelib.media.dicom_render import is_cine, read_header, render_cine_mp4, render_stills

    header = read_header(source)
    document = getattr(header, "MIMETypeOfEncapsulatedDocument", None)
    if document == "application/pdf":
        from pydicom import dcmread

        pdf = workdir / f"{number:04d}.pdf"
        pdf.write_bytes(bytes(dcmread(source).EncapsulatedDocument).rstrip(b"\0"))
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
