"""The chat's pre-signed POST: its policy fixes the key, the type and 1 byte..10 MiB (S3 enforces it;
moto does not, which is why the attachment worker checks the stored bytes again)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.visits import upload_key
from chalicelib.media.attachment_types import MAX_ATTACHMENT_BYTES
from chalicelib.services.deps import Deps

pytestmark = pytest.mark.contract
KEY = upload_key("cl_0a", "vi_0b", "at_0c")


def test_the_policy_fixes_key_content_type_and_size(real_deps: Deps) -> None:
    bucket = real_deps.buckets.chat
    post = real_deps.objects.presigned_post(
        bucket, KEY, max_bytes=MAX_ATTACHMENT_BYTES, expires_s=600, content_type="image/jpeg"
    )
    assert post.fields["key"] == KEY
    assert post.fields["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(post.fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"key": KEY} in conditions
    assert {"bucket": bucket} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(seconds=600)


def test_the_fake_hands_out_the_same_fields(deps: Deps) -> None:
    post = deps.objects.presigned_post("chat-bucket", KEY, max_bytes=5, expires_s=60, content_type="video/mp4")
    assert (post.fields["key"], post.fields["Content-Type"]) == (KEY, "video/mp4")
