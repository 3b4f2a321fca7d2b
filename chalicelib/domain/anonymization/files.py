"""De-identify one DICOM file into another, streaming the pixel data whenever it needs no cleaning."""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator
from typing import BinaryIO

from pydicom.dataset import Dataset, FileDataset
from pydicom.uid import UID

from chalicelib.domain.anonymization.assessment import Plan, plan
from chalicelib.domain.anonymization.deidentify import Deidentifier
from chalicelib.domain.anonymization.errors import NotDicom
from chalicelib.domain.anonymization.method import mark_deidentified
from chalicelib.domain.anonymization.options import PATIENT_SHARE_OPTIONS, Options
from chalicelib.domain.anonymization.part10 import Part10Writer, read_trailing
from chalicelib.domain.anonymization.pixel_output import PixelInput, plan_output
from chalicelib.domain.anonymization.quiet import pydicom_silenced
from chalicelib.domain.anonymization.report import Report
from chalicelib.media import dicom_file
from chalicelib.media.dicom_file import PixelDataElement
from chalicelib.media.errors import UnreadableDicom

Source = str | os.PathLike[str] | BinaryIO
_FROM_FILE_META = (("SOPClassUID", "MediaStorageSOPClassUID"), ("SOPInstanceUID", "MediaStorageSOPInstanceUID"))


def anonymize_file(src: Source, dst: Source, *, key: bytes, options: Options = PATIENT_SHARE_OPTIONS) -> Report:
    """De-identify the DICOM file ``src`` into ``dst`` and say what was done.

    ``key`` is the share's secret (at least 16 bytes): the same key maps the same UIDs (and the same
    patient's dates) the same way, so the instances of one share keep referring to each other. ``src`` must
    be seekable and is read from its start. When the instance is not anonymizable nothing is written (a
    path ``dst`` is not even created) and the report says why. Pixel data that needs no cleaning is copied
    byte for byte without being loaded; ultrasound pixels are cleaned frame by frame.

    Raises NotDicom when ``src`` is not a DICOM file we can read (a path ``dst`` is then removed), and
    ValueError when ``key`` is too short.
    """
    deidentifier = Deidentifier.for_share(key, options)
    with pydicom_silenced(), _opened_source(src) as source:
        try:
            header = dicom_file.read_header(source)
            element = dicom_file.locate_pixel_data(source, header)
            end = dicom_file.pixel_data_end(source, element, header) if element else None
        except UnreadableDicom as err:
            raise NotDicom(str(err)) from err
        if dicom_file.transfer_syntax(header) is None:
            raise NotDicom("The file has no Transfer Syntax UID (0002,0010) in its meta header")
        decision = plan(header, options)
        if decision.report.anonymizable:
            with _opened_target(dst) as target:
                _write_copy(source, target, header, element, end, decision, deidentifier)
    return decision.report


def _write_copy(
    source: BinaryIO,
    target: BinaryIO,
    header: FileDataset,
    element: PixelDataElement | None,
    end: int | None,
    decision: Plan,
    deidentifier: Deidentifier,
) -> None:
    options = deidentifier.profile.options
    deflated = dicom_file.is_deflated(header)  # read whole: its pixel data is an element of the header
    trailing = read_trailing(source, end, header) if end is not None else Dataset()
    cleaning = bool(decision.blank)
    original_meta = header.file_meta
    pixels = PixelInput(
        source,
        UID(original_meta.TransferSyntaxUID),
        element,
        end,
        # The decoder reads the original file (or, deflated, a copy of the pixel module taken before it changes).
        _pixel_module(header) if deflated and cleaning else source,
    )

    _complete_identity(header)
    date_offset = deidentifier.date_offset(header)
    deidentifier.apply_rules(header, date_offset)
    deidentifier.apply_rules(trailing, date_offset)
    output = plan_output(pixels, header, decision.blank, deflated)
    mark_deidentified(header, options, pixels_cleaned=cleaning)

    writer = Part10Writer(target, output.transfer_syntax)
    writer.write_header(header, str(header.SOPClassUID), str(header.SOPInstanceUID))
    if output.write is not None:
        output.write(writer)
    if len(trailing):
        writer.write_dataset(trailing)


def _complete_identity(header: FileDataset) -> None:
    """Give a dataset the SOP Class, SOP Instance and Series Instance UIDs it lacks, before the rules run.

    The SOP UIDs come from the file meta, which is not copied (PS3.10 wants them in both). A missing Series
    Instance UID is the study's with ".0" appended, as the study index files such an instance: the rules
    then replace it like any UID, so the instances of one study without a series share one new series.
    (A missing Study Instance UID is refused by the assessment: there is nothing to derive one from.)
    """
    meta = header.file_meta
    for keyword, meta_keyword in _FROM_FILE_META:
        if not str(header.get(keyword) or "").strip() and meta.get(meta_keyword):
            setattr(header, keyword, meta.get(meta_keyword))
    if not str(header.get("SeriesInstanceUID") or "").strip():
        header.SeriesInstanceUID = f"{str(header.StudyInstanceUID).strip()}.0"


def _pixel_module(header: FileDataset) -> Dataset:
    module = copy.deepcopy(header.group_dataset(0x0028))
    module.file_meta = header.file_meta
    if "PixelData" in header:
        module.add(header["PixelData"])
    return module


@contextlib.contextmanager
def _opened_source(src: Source) -> Iterator[BinaryIO]:
    if isinstance(src, str | os.PathLike):
        with open(src, "rb") as source:
            yield source
    else:
        src.seek(0)
        yield src


@contextlib.contextmanager
def _opened_target(dst: Source) -> Iterator[BinaryIO]:
    if not isinstance(dst, str | os.PathLike):
        yield dst
        return
    try:
        with open(dst, "wb") as target:
            yield target
    except BaseException:
        # A half-written copy is worse than none: it may pass for a complete one.
        with contextlib.suppress(FileNotFoundError):
            os.remove(dst)
        raise
