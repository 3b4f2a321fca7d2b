"""Importing the media library must not load numpy, Pillow, PyAV, pydicom or pillow-heif: the API
Lambda imports chalicelib.* at cold start, and those libraries cost hundreds of milliseconds."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import chalicelib.media

ROOT = Path(__file__).resolve().parents[3]
HEAVY = {"numpy", "PIL", "av", "pydicom", "pillow_heif", "fpdf", "fontTools"}
SUBMODULES = sorted(module.name for module in pkgutil.iter_modules(chalicelib.media.__path__))


def heavy_modules_after_importing(module: str) -> set[str]:
    return heavy_modules_after(f"import {module}")


def heavy_modules_after(statements: str) -> set[str]:
    code = f"import sys\n{statements}\nprint(','.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return HEAVY & set(result.stdout.strip().split(","))


def test_every_module_is_checked() -> None:
    assert {"dicom_render", "video", "sniff", "image_metadata", "previews"} <= set(SUBMODULES)


@pytest.mark.parametrize("module", ["chalicelib.media", *(f"chalicelib.media.{name}" for name in SUBMODULES)])
def test_importing_loads_no_heavy_library(module: str) -> None:
    assert heavy_modules_after_importing(module) == set()


def test_the_landing_page_cleans_a_description_without_the_anonymization_engine() -> None:
    # The page shows the study's description with Clean Descriptors applied: the one cleaner, not the engine.
    cleaned = "from chalicelib.domain.descriptors import clean_descriptor\nassert clean_descriptor('US Dr X') == 'US'"
    assert heavy_modules_after(f"import chalicelib.services.landing\n{cleaned}") == set()


def test_the_check_sees_a_heavy_import() -> None:
    # Guards the test above against passing for the wrong reason (a broken subprocess check).
    assert heavy_modules_after_importing("numpy") == {"numpy"}
