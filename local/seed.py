"""The demo clinic the local stack starts with."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.services.accounts import create_clinic
from chalicelib.wiring import deps

DEMO_CLINIC_NAME = "Demo Clinic"


def seed_demo_clinic(base_url: str, path: Path) -> dict[str, str]:
    """Create the demo clinic with a fresh key and write ``{"base_url", "api_key"}`` to ``path``."""
    clinic, issued = create_clinic(DEMO_CLINIC_NAME, deps())
    demo = {"base_url": base_url, "api_key": issued.plain_text, "clinic_id": clinic.clinic_id}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(demo, indent=2) + "\n")
    path.chmod(0o600)
    return demo
