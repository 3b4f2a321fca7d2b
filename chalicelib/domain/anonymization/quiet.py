"""Keep pydicom's warnings, which quote element values, out of warnings and logs while we work.

pydicom reports an invalid value by quoting it ("Invalid value for VR DA: '…'") through both the
``warnings`` module and its logger, which the service's log handlers would forward to CloudWatch. The values
of the instances we de-identify are patient data, so neither may leave.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def pydicom_silenced() -> Iterator[None]:
    """Silence pydicom's warnings and log records for the duration of the block."""
    logger = logging.getLogger("pydicom")
    disabled = logger.disabled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logger.disabled = True
        try:
            yield
        finally:
            logger.disabled = disabled
