"""One web edge: every page's security headers come from one decorator, with a policy computed once."""

from __future__ import annotations

import dataclasses
from typing import Any

from chalice.test import Client

from chalicelib import wiring
from chalicelib.services.deps import Deps


class CountingStore:
    """The fake object store, counting the URLs it signs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.signed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def presigned_get(self, *args: Any, **kwargs: Any) -> str:
        self.signed += 1
        return str(self.inner.presigned_get(*args, **kwargs))

    def presigned_post(self, *args: Any, **kwargs: Any) -> Any:
        self.signed += 1
        return self.inner.presigned_post(*args, **kwargs)


def test_every_page_gets_its_security_headers_from_a_policy_computed_once(client: Client, deps: Deps) -> None:
    counting = CountingStore(deps.objects)
    with wiring.override(dataclasses.replace(deps, objects=counting)):
        pages = ["/console/sign-in", "/p/not-a-token", "/v/not-a-token", "/visits/vi_x/chat"]
        first = {path: client.http.get(path).headers["Content-Security-Policy"] for path in pages}
        signed = counting.signed
        assert signed <= 3  # the share bucket's origin once, the chat bucket's (download and upload) once
        for _ in range(3):
            assert {path: client.http.get(path).headers["Content-Security-Policy"] for path in pages} == first
        assert counting.signed == signed  # no "origin probe" per response
    assert "form-action 'self'" in first["/console/sign-in"]
    assert "form-action 'self'" in first["/p/not-a-token"]
    assert "form-action 'none'" in first["/v/not-a-token"]  # the chat pages post no forms
    assert "memory://chat-bucket" in first["/v/not-a-token"]
    assert "chat-bucket" not in first["/p/not-a-token"]
    assert "img-src 'self' memory://share-bucket;" in first["/p/not-a-token"]
