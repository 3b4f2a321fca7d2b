"""Finding 2: a one-time code could be used again for its whole 15 minutes.

A code unlocks one browser, once. A second use of it, later or at the same moment (against DynamoDB
on moto, where the use is a write conditional on the share's version), is a wrong code.
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from chalice.test import Client

from chalicelib.services.deps import Deps
from tests.fakes import mailer
from tests.security.links import FORM, cookie_of, ready_share, shows_pictures


def request_code(client: Client, token: str, deps: Deps) -> str:
    assert client.http.post(f"/p/{token}/code", headers=FORM, body="request=code").status_code == 303
    found = re.search(r"\b(\d{6})\b", mailer(deps).sent[-1].text)
    assert found is not None
    return found.group(1)


def test_a_code_opens_one_browser_once(client: Client, moto_deps: Deps) -> None:
    _, token = ready_share(moto_deps, needs_password=True)
    code = request_code(client, token, moto_deps)
    first = client.http.post(f"/p/{token}/unlock", headers=FORM, body=f"secret={code}")
    assert first.status_code == 303
    page = client.http.get(f"/p/{token}", headers={"Cookie": cookie_of(first), "Accept-Language": "en"})
    assert shows_pictures(page.body.decode())
    again = client.http.post(f"/p/{token}/unlock", headers=FORM, body=f"secret={code}")
    assert again.status_code == 403
    assert "not right" in again.body.decode()


def test_one_code_sent_by_eight_browsers_at_once_opens_one(
    client: Client, moto_deps: Deps, whole_requests: None
) -> None:
    _, token = ready_share(moto_deps, needs_password=True)
    code = request_code(client, token, moto_deps)

    def use(_: int) -> int:
        return client.http.post(f"/p/{token}/unlock", headers=FORM, body=f"secret={code}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = Counter(pool.map(use, range(8)))
    assert statuses[303] == 1  # the others are wrong codes (403), or locked out once five were counted (423)
    assert statuses[403] + statuses[423] == 7
