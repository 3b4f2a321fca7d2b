"""Dependencies point one way (DESIGN.md): api/workers → services → domain; only wiring imports adapters;
boto3 and pynamodb only in adapters; fakes are injected, never patched in."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "chalicelib"


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((CHALICELIB / folder).rglob("*.py")) if folder else sorted(CHALICELIB.glob("*.py"))


def test_only_adapters_import_boto3_or_pynamodb() -> None:
    for path in CHALICELIB.rglob("*.py"):
        if "adapters" in path.parts:
            continue
        bad = {n for n in imports(path) if n.split(".")[0] in {"boto3", "botocore", "pynamodb"}}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_wiring_imports_adapters() -> None:
    for path in CHALICELIB.rglob("*.py"):
        if "adapters" in path.parts or path.name == "wiring.py":
            continue
        bad = {n for n in imports(path) if n.startswith("chalicelib.adapters")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("domain", ("chalicelib.services", "chalicelib.api", "chalicelib.workers", "chalicelib.wiring", "chalice")),
        ("services", ("chalicelib.api", "chalicelib.workers", "chalicelib.wiring", "chalice")),
    ],
)
def test_inner_layers_do_not_import_outer_ones(layer: str, forbidden: tuple[str, ...]) -> None:
    for path in modules(layer):
        bad = {n for n in imports(path) for f in forbidden if n == f or n.startswith(f + ".")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_domain_never_reads_the_clock_or_the_environment() -> None:
    for path in modules("domain"):
        source = path.read_text()
        for call in ("datetime.now(", "datetime.utcnow(", "time.time(", "os.environ"):
            assert call not in source, f"{path.relative_to(ROOT)} uses {call}"


def test_only_settings_reads_the_environment() -> None:
    for path in CHALICELIB.rglob("*.py"):
        if path.name == "settings.py":
            continue
        assert "os.environ" not in path.read_text(), f"{path.relative_to(ROOT)} reads os.environ"


def test_tests_inject_fakes_instead_of_patching() -> None:
    for path in (ROOT / "tests").rglob("*.py"):
        names = imports(path)
        assert not {"unittest.mock", "mock"} & names, f"{path.relative_to(ROOT)} uses mock"


def test_importing_the_api_loads_no_heavy_module() -> None:
    code = (
        "import sys, app\n"
        "heavy = {'numpy', 'PIL', 'av', 'pydicom', 'jinja2'} & {m.split('.')[0] for m in sys.modules}\n"
        "print(','.join(sorted(heavy)))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_signing_key_reader_loads_only_when_a_key_is_first_needed() -> None:
    """Powertools' parameters utility and the Secrets Manager client cost every function nothing until one signs."""
    code = (
        "import sys, app\n"
        "from chalicelib import wiring\n"
        "wiring.build()\n"
        "print(any(m.startswith('aws_lambda_powertools.utilities.parameters') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_only_the_token_verifier_and_sealed_values_import_the_jose_library() -> None:
    importers = {p.relative_to(ROOT).as_posix() for p in CHALICELIB.rglob("*.py") if "joserfc" in {
        n.split(".")[0] for n in imports(p)}}  # fmt: skip
    assert importers == {"chalicelib/adapters/cognito_tokens.py", "chalicelib/domain/sealed.py"}


def test_the_jose_library_loads_only_when_a_token_is_first_verified() -> None:
    code = (
        "import sys, app\n"
        "from chalicelib import wiring\n"
        "wiring.build()\n"
        "print(sorted({'joserfc', 'cryptography'} & {m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_qr_code_library_loads_only_when_a_code_is_drawn() -> None:
    code = "import sys, app\nprint('segno' in {m.split('.')[0] for m in sys.modules})"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
