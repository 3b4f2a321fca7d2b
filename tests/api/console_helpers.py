"""Signing in to the console in-process (on fakes), for the tests of every console page."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from chalice.test import Client

from chalicelib.domain.accounts import Clinic
from chalicelib.domain.errors import NotFound
from chalicelib.domain.staff import Role
from chalicelib.services import staff
from chalicelib.services.deps import Deps

CLINIC = "cl_00000000000000aa"
TEMPORARY = "Temporary-Pass-1"
PERMANENT = "Permanent-Pass-2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post(client: Client, path: str, cookie: str | None = None, **fields: str) -> Any:
    """A form's POST, as a browser sends it (with the console's cookie when given)."""
    headers = dict(FORM, **({"Cookie": cookie} if cookie else {}))
    return client.http.post(path, headers=headers, body=urllib.parse.urlencode(fields))


def hidden(html: str, name: str) -> str:
    """The value of a page's hidden field (the CSRF token, a challenge's token)."""
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no hidden {name}"
    return found.group(1)


def sign_in_form(client: Client, email: str, password: str) -> Any:
    """The sign-in form posted as a browser posts it: with the token and cookie its page gave (login CSRF)."""
    page = client.http.get("/console/sign-in")
    cookie = str(page.headers["Set-Cookie"]).split(";", 1)[0]
    return post(
        client, "/console/sign-in", cookie, csrf=hidden(page.body.decode(), "csrf"), email=email, password=password
    )


def signed_in_as(client: Client, deps: Deps, email: str, role: Role, clinic_id: str = CLINIC) -> str:
    """A member of ``clinic_id`` (made if missing) invited and signed in: their console cookie (name=value)."""
    try:
        deps.clinics.get(clinic_id)
    except NotFound:
        deps.clinics.add(Clinic(clinic_id, "Kliniken Syd", deps.clock.now()))
    staff.invite(clinic_id, email, role, deps, temporary_password=TEMPORARY)
    challenge = sign_in_form(client, email, TEMPORARY)
    done = post(client, "/console/challenge", token=hidden(challenge.body.decode(), "token"), response=PERMANENT)
    assert done.status_code == 303
    return str(done.headers["Set-Cookie"]).split(";", 1)[0]


def csrf_of(client: Client, cookie: str) -> str:
    """The session's CSRF token, as every console page carries it."""
    return hidden(client.http.get("/console/studies", headers={"Cookie": cookie}).body.decode(), "csrf")
