"""The pre-signed GET serves what it names: the type and the file name given when it was signed, whatever
the object was stored with (S3's response overrides). The fake's ``memory://`` URL names the same."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

import pytest
import requests

from chalicelib.services.deps import Deps

pytestmark = pytest.mark.contract
KEY = "attachments/cl_0a/vi_0b/at_0c/file"


def served(url: str) -> tuple[str | None, str | None]:
    """(Content-Type, the disposition's kind and file name) the URL's answer carries."""
    if url.startswith("memory://"):
        query = parse_qs(urlparse(url).query)
        kind_and_name = query["disposition"][0] if "disposition" in query else None
        return query.get("type", [None])[0], kind_and_name and unquote(kind_and_name)
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    disposition = response.headers.get("Content-Disposition")
    if disposition is None:
        return response.headers["Content-Type"], None
    kind, _, rest = disposition.partition("; ")
    name = unquote(rest.rsplit("UTF-8''", 1)[1])  # the RFC 5987 form carries the exact name
    return response.headers["Content-Type"], f"{kind}:{name}"


def test_the_type_and_name_signed_into_the_url_are_what_is_served(real_or_fake: Deps) -> None:
    bucket = real_or_fake.buckets.chat
    real_or_fake.objects.put(bucket, KEY, b"Provsvar\n", "application/octet-stream")

    url = real_or_fake.objects.presigned_get(
        bucket, KEY, expires_s=60, filename="prov svar.txt", inline=False, content_type="text/plain"
    )

    assert served(url) == ("text/plain", "attachment:prov svar.txt")


def test_without_overrides_s3_serves_the_stored_type(real_or_fake: Deps) -> None:
    bucket = real_or_fake.buckets.chat
    real_or_fake.objects.put(bucket, KEY, b"\xff\xd8\xff", "image/jpeg")
    url = real_or_fake.objects.presigned_get(bucket, KEY, expires_s=60)
    content_type, disposition = served(url)
    assert disposition is None
    assert content_type == ("image/jpeg" if not url.startswith("memory://") else None)
