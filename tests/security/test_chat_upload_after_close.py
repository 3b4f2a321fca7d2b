"""Finding 8: an upload form handed out before a visit was closed still added a kept file after the
close: the attachment worker checked the late upload and marked it ready, after the closing clinician's
reminder had listed the files to save into the record.

The worker now compares when S3 had the upload (the event's ``eventTime``) with the visit's
``closed_at``: a later upload is refused with its own reason and deleted. The verdict is written only
onto the message as it was read, so a close during the check is seen. The upload form lasts only as
long as sending the declared size needs. Driven in-process on moto: the clinic's API, the pre-signed
POST, S3's event to the attachment worker.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from chalice.test import Client

from chalicelib.services.deps import Deps
from tests.security.chat_flow import run_attachment_worker, start_visit
from tests.unit.media import samples


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return samples.jpeg_with_gps()


def chat_objects(deps: Deps) -> list[str]:
    s3 = boto3.client("s3", region_name="eu-north-1")
    return [o["Key"] for o in s3.list_objects_v2(Bucket=deps.buckets.chat).get("Contents", [])]


def test_a_file_uploaded_after_the_close_is_refused_deleted_and_never_kept(
    real_deps: Deps, client: Client, jpeg: bytes
) -> None:
    visit = start_visit(client, real_deps)
    announced = visit.announce("sår.jpg", "image/jpeg", len(jpeg))
    closed = visit.call("post", "/close")
    assert closed.status_code == 200
    assert closed.json_body["reminder"]["files"] == []

    visit.upload(announced, "sår.jpg", "image/jpeg", jpeg)  # the form handed out before the close still works
    run_attachment_worker()

    attachment = visit.attachment(announced["attachment_id"])
    assert (attachment["status"], attachment["reason_code"]) == ("rejected", "after_close")
    assert attachment["reason"] == "the file arrived after the visit was closed"
    assert attachment["url"] is None
    assert visit.call("get", f"/attachments/{announced['attachment_id']}").status_code == 410
    assert visit.call("get", "").json_body["files"] == {"kept": 0, "unsaved": []}
    assert chat_objects(real_deps) == [], "the late upload is deleted and no checked copy is kept"


def test_a_file_uploaded_before_the_close_is_kept_though_checked_after_it(
    real_deps: Deps, client: Client, jpeg: bytes
) -> None:
    visit = start_visit(client, real_deps)
    announced = visit.announce("sår.jpg", "image/jpeg", len(jpeg))
    visit.upload(announced, "sår.jpg", "image/jpeg", jpeg)
    assert visit.call("post", "/close").status_code == 200

    run_attachment_worker()

    assert visit.attachment(announced["attachment_id"])["status"] == "ready"
    assert visit.call("get", "").json_body["files"]["kept"] == 1


def test_the_upload_form_expires_as_soon_as_sending_the_declared_size_allows(real_deps: Deps, client: Client) -> None:
    visit = start_visit(client, real_deps)
    before = datetime.now(UTC)
    form = visit.announce("remiss.pdf", "application/pdf", 10 * 1024 * 1024)["upload"]
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    # A minute to start, and 10 MiB over a 256 kbit/s uplink: 6 min 20 s (it was 10 minutes for any file).
    assert expires - before <= timedelta(seconds=380) + timedelta(seconds=2)
    small = visit.announce("remiss.pdf", "application/pdf", 20_000)["upload"]
    small_policy = json.loads(base64.b64decode(small["fields"]["policy"]))
    small_expires = datetime.fromisoformat(small_policy["expiration"].replace("Z", "+00:00"))
    assert small_expires - before <= timedelta(seconds=61) + timedelta(seconds=2)


@pytest.mark.parametrize(("lang", "words"), [("sv", "filen kom fram efter att besöket avslutats"),
                                             ("en", "the file arrived after the visit was closed")])  # fmt: skip
def test_the_refusal_is_told_in_swedish_and_english(real_deps: Deps, client: Client, lang: str, words: str) -> None:
    visit = start_visit(client, real_deps)
    page = client.http.get(f"/visits/{visit.visit_id}/chat", headers={"Accept-Language": lang}).body.decode()
    strings = re.search(r'<script type="application/json" id="chat-strings">(.*?)</script>', page, re.S)
    assert strings is not None
    assert json.loads(strings.group(1))["reason_after_close"] == words
