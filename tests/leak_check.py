"""A pytest plugin: a test fails when its captured output (logs, EMF metrics, anything printed by the
code under test) carries a patient-identifying value from ``tests/patient_data.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import patient_data


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    # Sections accumulate over setup, call and teardown: read only this phase's.
    own = [content for title, content in report.sections if title.endswith(f" {report.when}")]
    found = patient_data.leaked("\n".join(own))
    if found and report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"patient data reached the output during {report.when}: {len(found)} value(s) of "
            "tests/patient_data.py appear in the captured logs/stdout/stderr (see the captured output)"
        )
