"""Finding 4: the clinic-wide Patient Link Code alone opened originals that could not be anonymized.

Every patient of the clinic knows that code. A share carrying what could not be anonymized asks, after
the clinic's code, for the per-share one-time code or the patient's own password as well; the pictures
and every download stay closed until both are given.
"""

from __future__ import annotations

import re

from chalice.test import Client

from chalicelib.services.deps import Deps
from tests.fakes import mailer
from tests.security.links import FORM, LINK_CODE, cookie_of, ready_share, shows_pictures


def test_the_clinic_code_then_a_one_time_code_open_originals(client: Client, moto_deps: Deps) -> None:
    _, token = ready_share(moto_deps, link_code=LINK_CODE, needs_password=True)
    after_code = client.http.post(f"/p/{token}/unlock", headers=FORM, body=f"secret={LINK_CODE}")
    assert after_code.status_code == 303
    cookie = cookie_of(after_code)
    browser = {"Cookie": cookie, "Accept-Language": "en"}
    second_step = client.http.get(f"/p/{token}", headers=browser).body.decode()
    assert not shows_pictures(second_step)
    assert "one-time code" in second_step
    assert "Step 2 of 2" in second_step
    assert client.http.get(f"/p/{token}/files/0", headers=browser).status_code == 303  # back to the form

    # The clinic's code is no answer to the second lock.
    assert (
        client.http.post(f"/p/{token}/unlock", headers={**FORM, **browser}, body=f"secret={LINK_CODE}").status_code
        == 403
    )

    assert client.http.post(f"/p/{token}/code", headers={**FORM, **browser}, body="request=code").status_code == 303
    found = re.search(r"\b(\d{6})\b", mailer(moto_deps).sent[-1].text)
    assert found is not None
    unlocked = client.http.post(f"/p/{token}/unlock", headers={**FORM, **browser}, body=f"secret={found.group(1)}")
    assert unlocked.status_code == 303
    opened = {"Cookie": cookie_of(unlocked), "Accept-Language": "en"}
    assert shows_pictures(client.http.get(f"/p/{token}", headers=opened).body.decode())
    assert client.http.get(f"/p/{token}/files/0", headers=opened).status_code == 302


def test_the_one_time_code_alone_does_not_skip_the_clinic_code(client: Client, moto_deps: Deps) -> None:
    _, token = ready_share(moto_deps, link_code=LINK_CODE, needs_password=True)
    first_step = client.http.get(f"/p/{token}", headers={"Accept-Language": "en"}).body.decode()
    assert "Enter the code the clinic gave you" in first_step
    assert "Step 1 of 2" in first_step
