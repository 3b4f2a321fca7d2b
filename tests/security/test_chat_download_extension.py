"""Finding 6: a chat download kept the sender's extension, so a text file named ``provsvar.hta`` or
``run.bat`` reached the other side under a name Windows runs when it is opened.

Every download is now named by the type sniffed from its bytes (the sender's stem, that type's one
extension) and served as that type, both through S3's response overrides signed into the pre-signed GET.
Driven in-process on moto: the clinic's API, the pre-signed POST, S3's event to the attachment worker,
the pre-signed GET.
"""

from __future__ import annotations

import pytest
from chalice.test import Client

from chalicelib.services.deps import Deps
from tests.security.chat_flow import run_attachment_worker, start_visit

TEXT = b"Provsvar\r\nHb 134 g/L (referens 117-153)\r\n"


@pytest.mark.parametrize(
    ("sent_as", "served_as"),
    [
        ("provsvar.hta", "provsvar.txt"),
        ("run.bat", "run.txt"),
        ("svar.TXT.js", "svar.TXT.txt"),
        ("Provsvar", "Provsvar.txt"),
    ],
)
def test_a_text_file_is_downloaded_as_txt_whatever_the_sender_named_it(
    real_deps: Deps, client: Client, sent_as: str, served_as: str
) -> None:
    visit = start_visit(client, real_deps)
    announced = visit.announce(sent_as, "text/plain", len(TEXT))
    visit.upload(announced, sent_as, "text/plain", TEXT)
    assert run_attachment_worker() >= 1
    attachment = visit.attachment(announced["attachment_id"])
    assert (attachment["status"], attachment["content_type"]) == ("ready", "text/plain")

    served = visit.download(announced["attachment_id"])

    assert served.content == TEXT
    assert served.headers["Content-Type"] == "text/plain"
    assert served.headers["Content-Disposition"] == (
        f"attachment; filename=\"{served_as}\"; filename*=UTF-8''{served_as}"
    )
