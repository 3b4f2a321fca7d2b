"""The demo clinic the local stack starts with."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from chalicelib.domain.staff import Role
from chalicelib.services import staff
from chalicelib.services.accounts import create_clinic
from chalicelib.wiring import deps
from local.demo_studies import seed_demo_studies

DEMO_CLINIC_NAME = "Demo Clinic"
DEMO_ADMIN_EMAIL = "admin@demo-clinic.example"


def seed_demo_clinic(base_url: str, path: Path) -> dict[str, Any]:
    """Create the demo clinic with a fresh key and a demo admin whose password is already permanent (the first
    sign-in goes straight in) and two generated demo studies, and write ``base_url``, ``api_key``,
    ``clinic_id``, ``console_url``, ``staff_email``, ``staff_password`` and ``demo_patients`` to ``path``."""
    clinic, issued = create_clinic(DEMO_CLINIC_NAME, deps())
    password = f"Demo-{secrets.token_urlsafe(12)}-9a"  # fresh each run; meets the pool's policy
    admin = staff.invite(clinic.clinic_id, DEMO_ADMIN_EMAIL, Role.ADMIN, deps(), temporary_password=password)
    deps().staff.set_password(admin.staff_id, password)
    studies = seed_demo_studies(clinic.clinic_id, deps())
    demo: dict[str, Any] = {
        "base_url": base_url,
        "api_key": issued.plain_text,
        "clinic_id": clinic.clinic_id,
        "console_url": f"{base_url}/console",
        "staff_email": DEMO_ADMIN_EMAIL,
        "staff_password": password,
        "demo_patients": [{"name": s.patient_name, "patient_id": s.patient_id, "frames": s.frames} for s in studies],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(demo, indent=2) + "\n")
    path.chmod(0o600)
    return demo
