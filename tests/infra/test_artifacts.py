"""The two deployables hold what their code needs, as builds Lambda can load, and do their heaviest work.

Chalice's zip (the API and the light workers) and the media image's task root (the share and attachment
workers) are built as a deployment builds them (``conftest``). Each is then run in a fresh interpreter
that sees nothing but it and the standard library: Chalice leaves out, or builds against this machine's
libraries, without failing, a package that has no wheel for Lambda's glibc, and only running the code
shows that nothing it imports lazily is missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydicom.data import get_testdata_file
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, JPEGLSLossless, RLELossless

from chalicelib import api
from tests import dicom_files
from tests.unit.anonymization.builders import us_cine, write
from tests.unit.media import samples

ROOT = Path(__file__).resolve().parents[2]
#: The issue's goal; Lambda's own limit for a zip function with its layers is 250 MB.
ZIP_GOAL_BYTES = 200 * 10**6
#: Lambda's python3.11 runtime (Amazon Linux 2), for the zip and the image's base alike.
LAMBDA_GLIBC = (2, 26)
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
#: Only the media image has these (requirements-media.txt).
MEDIA_ONLY = ("av", "pillow_heif", "fpdf", "fontTools")
#: In no deployable: the X-Ray SDK is in maintenance (end of support 2027-02-25); Lambda traces itself.
RETIRED = ("aws_xray_sdk",)
#: Real compressed files from pydicom's wheel: JPEG baseline, 12-bit JPEG and JPEG-LS (libjpeg), JPEG 2000, RLE.
COMPRESSED = ("SC_rgb_jpeg_dcmtk.dcm", "JPGExtended.dcm", "MR_small_jpeg_ls_lossless.dcm", "JPEG2000.dcm",
              "MR_small_RLE.dcm")  # fmt: skip


def pinned(requirements: Path) -> dict[str, str]:
    """``name: version`` of a requirements file, following ``-r`` includes."""
    found: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found.update(pinned(requirements.parent / line.removeprefix("-r ").strip()))
        elif line:
            name, _, version = line.partition("==")
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def loadable_on_lambda(tag: str) -> bool:
    """A wheel tag (``cp311-cp311-manylinux2014_x86_64``) Lambda's glibc can load."""
    platform = tag.rsplit("-", 1)[1]
    if platform == "any":
        return True
    legacy = re.fullmatch(r"(manylinux\d+)_x86_64", platform)
    if legacy:
        return _LEGACY_MANYLINUX.get(legacy.group(1), (99, 0)) <= LAMBDA_GLIBC
    perennial = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", platform)
    return bool(perennial) and (int(perennial.group(1)), int(perennial.group(2))) <= LAMBDA_GLIBC


def check_distributions(wheels: Iterable[tuple[str, str]], requirements: Path) -> None:
    """Every pinned requirement is there, at its version, from a wheel Lambda can load."""
    installed: dict[str, tuple[str, list[str]]] = {}
    for dist_info, wheel in wheels:
        name, version = dist_info.removesuffix(".dist-info").rsplit("-", 1)
        tags = [line.removeprefix("Tag: ") for line in wheel.splitlines() if line.startswith("Tag: ")]
        installed[re.sub(r"[-_.]+", "-", name).lower()] = (version, tags)
        assert any(loadable_on_lambda(t) for t in tags), f"{dist_info} was built for this machine, not Lambda: {tags}"
    for name, version in pinned(requirements).items():
        assert name in installed, f"{name} is not in the package"
        assert installed[name][0] == version, f"{name} is {installed[name][0]}, not the pinned {version}"


def run_isolated(root: Path, handlers: list[str], code: str, *args: str) -> Any:
    """Import ``handlers`` as Lambda would, then run ``code``, with only ``root`` and the standard library
    importable; what ``code`` prints last, as JSON."""
    env = {"PATH": os.environ["PATH"], "STAGE": "dev", "RESOURCE_PREFIX": "patient-share-dev",
           "AWS_DEFAULT_REGION": "eu-north-1", "POWERTOOLS_TRACE_DISABLED": "true"}  # fmt: skip
    imports = "".join(
        f"assert callable(getattr(importlib.import_module({module!r}), {name!r})), {handler!r}\n"
        for handler in handlers
        for module, name in [handler.rsplit(".", 1)]
    )
    program = f"import importlib, sys\nsys.path.insert(0, {str(root)!r})\n{imports}{code}"
    done = subprocess.run([sys.executable, "-S", "-c", program, *args], env=env, cwd=root, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def functions(template: dict[str, Any], package_type: str) -> dict[str, dict[str, Any]]:
    return {
        name: r["Properties"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function" and r["Properties"].get("PackageType", "Zip") == package_type
    }


# ---------------------------------------------------------------------------------------------- the zip


def test_the_zip_holds_every_runtime_requirement_as_lambda_wheels_within_the_size_goal(package_dir: Path) -> None:
    with zipfile.ZipFile(package_dir / "deployment.zip") as package:
        names = package.namelist()
        wheel_files = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/WHEEL", n)]
        wheels = [(n.split("/")[0], package.read(n).decode()) for n in wheel_files]
        unzipped = sum(info.file_size for info in package.infolist())
    check_distributions(wheels, ROOT / "requirements.txt")
    assert not [n for n in names if n.split("/")[0].split(".")[0] in MEDIA_ONLY], "media-only packages in the zip"
    assert not [n for n in names if n.split("/")[0].split("-")[0] in RETIRED], "the X-Ray SDK is in the zip"
    assert unzipped <= ZIP_GOAL_BYTES, f"{unzipped / 1e6:.1f} MB unzipped"


def test_the_zip_imports_every_handler_and_thumbnails_compressed_dicom_without_the_media_libraries(
    package_dir: Path, template: dict[str, Any], tmp_path: Path
) -> None:
    root = tmp_path / "task"
    with zipfile.ZipFile(package_dir / "deployment.zip") as package:
        package.extractall(root)
    handlers = sorted({f["Handler"] for f in functions(template, "Zip").values()})
    files = [str(get_testdata_file(name)) for name in COMPRESSED]
    result = run_isolated(
        root,
        handlers,
        f"""
import importlib.util, json
from chalicelib.media.dicom_render import thumbnail
sizes = [len(thumbnail(path)) for path in sys.argv[1:]]
print(json.dumps({{"sizes": sizes, "media": [n for n in {MEDIA_ONLY!r} if importlib.util.find_spec(n)]}}))
""",
        *files,
    )
    assert len(handlers) >= 5
    assert all(size > 100 for size in result["sizes"])
    assert result["media"] == []


def test_neither_deployable_holds_the_on_site_gateway_or_its_dicom_networking(
    package_dir: Path, media_root: Path
) -> None:
    """gateway/ runs on the clinic's box (requirements-gateway.txt); a Lambda has no use for it or pynetdicom."""
    with zipfile.ZipFile(package_dir / "deployment.zip") as package:
        zip_tops = {n.split("/")[0] for n in package.namelist()}
    image_tops = {p.name for p in media_root.iterdir()}
    for tops in (zip_tops, image_tops):
        assert "chalicelib" in tops  # the listing is of a real deployable
        assert "gateway" not in tops
        assert not [t for t in tops if t.lower().startswith("pynetdicom")]
    for requirements in ("requirements.txt", "requirements-media.txt"):
        assert "pynetdicom" not in pinned(ROOT / requirements)
    assert "pynetdicom" in pinned(ROOT / "requirements-gateway.txt")


# ---------------------------------------------------------------------------------------------- the media image


def test_the_media_image_holds_every_requirement_as_lambda_wheels(media_root: Path) -> None:
    wheels = [(d.name, (d / "WHEEL").read_text()) for d in media_root.glob("*.dist-info")]
    check_distributions(wheels, ROOT / "requirements-media.txt")
    assert not [d for d in media_root.iterdir() if d.name.split("-")[0] in RETIRED], "the X-Ray SDK is in the image"


def test_no_requirements_file_asks_for_the_retired_x_ray_sdk() -> None:
    for requirements in ROOT.glob("requirements*.txt"):
        assert not [name for name in pinned(requirements) if name.replace("-", "_") in RETIRED], requirements.name


def test_the_media_image_imports_its_handlers_makes_mp4_posters_and_reads_iphone_pictures(
    media_root: Path, template: dict[str, Any], tmp_path: Path
) -> None:
    handlers = sorted(f["ImageConfig"]["Command"][0] for f in functions(template, "Image").values())
    cine = tmp_path / "cine.dcm"
    cine.write_bytes(dicom_files.instance(frames=6, rows=48, columns=64))
    heic = tmp_path / "picture.heic"
    heic.write_bytes(samples.heic_with_exif(width=64, height=32, orientation=6))
    result = run_isolated(
        media_root,
        handlers,
        """
import io, json
from PIL import Image
from chalicelib.media.dicom_render import render_cine_mp4
from chalicelib.media.previews import image_thumbnail, video_poster
cine, heic, mp4 = sys.argv[1:]
info = render_cine_mp4(cine, mp4)
poster = Image.open(io.BytesIO(video_poster(mp4)))
picture = Image.open(io.BytesIO(image_thumbnail(heic)))
print(json.dumps({"frames": info.frame_count, "poster": poster.size, "picture": picture.size}))
""",
        str(cine),
        str(heic),
        str(tmp_path / "cine.mp4"),
    )
    assert len(handlers) == len(api.MEDIA_WORKERS)
    assert result["frames"] == 6
    assert result["poster"] == [64, 48]
    assert result["picture"] == [32, 64]  # turned upright (EXIF orientation 6)


def test_the_media_image_writes_a_structured_reports_pdf(media_root: Path, tmp_path: Path) -> None:
    report = tmp_path / "sr.dcm"
    report.write_bytes(dicom_files.structured_report(study_uid="1.2.826.0.1.3680043.8.498.97"))
    result = run_isolated(
        media_root,
        [],
        """
import json
from chalicelib.media.structured_report import read_report, report_pdf
pdf = report_pdf(read_report(sys.argv[1]), "Kliniken Väst", "Rapporten ur originalfilen")
print(json.dumps({"head": pdf[:5].decode(), "size": len(pdf)}))
""",
        str(report),
    )
    assert result["head"] == "%PDF-"
    assert result["size"] > 500


def test_the_media_image_cleans_compressed_ultrasound_into_its_own_family(media_root: Path, tmp_path: Path) -> None:
    # The share worker's encoders (RLE, JPEG-LS, JPEG 2000, JPEG Baseline) from the wheels Lambda's image gets.
    syntaxes = (RLELossless, JPEGLSLossless, JPEG2000Lossless)
    sources = [str(write(us_cine(), tmp_path / f"in-{number}.dcm", syntax)) for number, syntax in enumerate(syntaxes)]
    sources.append(str(get_testdata_file("color3d_jpeg_baseline.dcm")))
    result = run_isolated(
        media_root,
        [],
        """
import json
from chalicelib.domain.anonymization import anonymize_file
from chalicelib.media.dicom_file import read_header
folder, sources = sys.argv[1], sys.argv[2:]
syntaxes = []
for number, source in enumerate(sources):
    report = anonymize_file(source, f"{folder}/{number}.out.dcm", key=bytes(32))
    syntaxes.append([report.pixels_cleaned, str(read_header(f"{folder}/{number}.out.dcm").file_meta.TransferSyntaxUID)])
print(json.dumps(syntaxes))
""",
        str(tmp_path),
        *sources,
    )
    assert result == [
        [True, RLELossless],
        [True, JPEGLSLossless],
        [True, JPEG2000Lossless],
        [True, JPEGBaseline8Bit],
    ]
