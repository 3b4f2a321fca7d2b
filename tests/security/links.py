"""Shares built straight into the repositories, for the security tests of the patient's link page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from chalicelib.domain import links
from chalicelib.domain.contacts import Contact, ContactKind
from chalicelib.domain.deliveries import Delivery, DeliveryStatus
from chalicelib.domain.shares import Share, SharedFile, ShareStatus, new_share_id
from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from tests import patient_data

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"}
LINK_CODE = "4711"


def ready_share(deps: Deps, *, link_code: str | None = None, needs_password: bool = False) -> tuple[Share, str]:
    """A share ready to be opened (one picture), its clinic, and the token of its link."""
    clinic, _ = accounts.create_clinic("Kliniken Väst", deps)
    if link_code is not None:
        clinic = replace(clinic, link_code_hash=links.hash_secret(link_code))
        deps.clinics.save(clinic)
    token = links.new_token()
    now = deps.clock.now()
    share = Share(
        share_id=new_share_id(),
        clinic_id=clinic.clinic_id,
        study_instance_uid="1.2.826.0.1.3680043.8.498.77",
        sop_instance_uids=None,
        deliveries=(
            Delivery(1, Contact(ContactKind.EMAIL, patient_data.EMAILS[0]), DeliveryStatus.SENT, None, 1, now),
        ),
        language="en",
        token_hash=links.token_hash(token),
        token_nonce=links.new_nonce(),
        created_at=now,
        expires_at=now + timedelta(days=90),
        status=ShareStatus.READY,
        needs_password=needs_password,
        link_code_hash=clinic.link_code_hash,
        files=(SharedFile(f"shares/{clinic.clinic_id}/x/IM0001.jpg", "IM0001.jpg", "image", "image/jpeg", 10),),
    )
    deps.shares.add(share)
    return share, token


def cookie_of(response: object) -> str:
    """The cookie a response sets, as a browser sends it back."""
    return str(response.headers["Set-Cookie"]).split(";")[0]  # type: ignore[attr-defined]


def shows_pictures(html: str) -> bool:
    """Whether a page shows the share's pictures (not a lock form)."""
    return 'class="zoom"' in html
