"""De-identification of DICOM instances for sharing with patients (PS3.15 Annex E).

The share worker calls :func:`anonymize_file` once per instance, with one key per share::

    report = anonymize_file(source_path, target_path, key=share_key)  # PATIENT_SHARE_OPTIONS
    if not report.anonymizable:
        ...  # nothing was written; report.reasons say why, in codes and words without patient data

:func:`assess` answers "can this be shared?" from a header alone, without writing anything. The profile is
data (``data/basic_profile.csv``, reviewed like code); the options used for patient sharing are chosen in
one place, :data:`PATIENT_SHARE_OPTIONS`. :class:`NotDicom` is raised for input that is not a DICOM file.
"""

from chalicelib.domain.anonymization.assessment import assess
from chalicelib.domain.anonymization.deidentify import Deidentifier
from chalicelib.domain.anonymization.errors import NotDicom
from chalicelib.domain.anonymization.files import anonymize_file
from chalicelib.domain.anonymization.options import PATIENT_SHARE_OPTIONS, Option, Options
from chalicelib.domain.anonymization.report import CleaningMethod, Reason, ReasonCode, Report

__all__ = [
    "PATIENT_SHARE_OPTIONS",
    "CleaningMethod",
    "Deidentifier",
    "NotDicom",
    "Option",
    "Options",
    "Reason",
    "ReasonCode",
    "Report",
    "anonymize_file",
    "assess",
]
