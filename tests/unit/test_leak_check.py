"""The leak check itself can fail: a test whose code logs a patient value is reported failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import patient_data


def test_a_test_that_logs_patient_data_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
    pytester.makepyfile(
        f"""
        import logging
        def test_logs_a_name():
            logging.getLogger("x").warning("sending to {patient_data.EMAILS[0]}")
        def test_prints_a_phone():
            print("sms to {patient_data.PHONES[0]}")
        def test_clean():
            logging.getLogger("x").warning("sending share sh_123")
        """
    )
    result = pytester.runpytest_subprocess("-p", "tests.leak_check")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*patient data reached the output during call*"])
    capsys.readouterr()  # the inner run's report quotes the values on purpose; it is not our output
