"""Finding 7: a video sent in the chat kept its metadata, so the other side could read where it was shot
(QuickTime's ``©xyz``, Apple's ``com.apple.quicktime.location.ISO6709``), with what (make, model) and when.

The attachment worker now copies every video stream by stream into a new container without metadata,
data or timecode tracks; pictures and sound are copied bit for bit. Driven in-process on moto: the
clinic's API, the pre-signed POST, S3's event to the attachment worker, the pre-signed GET.
"""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from chalice.test import Client

from chalicelib.services.deps import Deps
from tests.security.chat_flow import run_attachment_worker, start_visit
from tests.unit.media import samples

SHOT = [samples.VIDEO_POSITION, samples.VIDEO_MAKE, samples.VIDEO_MODEL]


def content(path: Path) -> tuple[list[bytes], dict[str, str], list[str]]:
    """Every video packet, every tag of the container and its tracks, and the kinds of track."""
    with av.open(str(path)) as container:
        video = [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]
        found = dict(container.metadata)
        for stream in container.streams:
            found.update({f"{stream.index}:{k}": v for k, v in stream.metadata.items()})
        return video, found, [s.type for s in container.streams]


@pytest.mark.parametrize("mdta", [False, True], ids=["quicktime-udta", "apple-mdta"])
def test_a_downloaded_video_tells_nothing_of_where_when_or_with_what_it_was_shot(
    real_deps: Deps, client: Client, tmp_path: Path, mdta: bool
) -> None:
    sent = samples.phone_video(tmp_path / "sent.mov", mdta=mdta)
    assert all(marker.encode() in sent for marker in SHOT)
    visit = start_visit(client, real_deps)
    announced = visit.announce("IMG_0042.MOV", "video/quicktime", len(sent))
    visit.upload(announced, "IMG_0042.MOV", "video/quicktime", sent)
    run_attachment_worker()
    assert visit.attachment(announced["attachment_id"])["status"] == "ready"

    served = visit.download(announced["attachment_id"]).content

    for marker in [*SHOT, "\xa9xyz", "com.apple.quicktime", "tmcd"]:
        assert marker.encode("latin-1") not in served, marker
    (tmp_path / "served.mov").write_bytes(served)
    sent_video, sent_tags, sent_tracks = content(tmp_path / "sent.mov")
    served_video, served_tags, served_tracks = content(tmp_path / "served.mov")
    assert any("creation_time" in k for k in sent_tags)
    assert not any(k.endswith(("creation_time", "location", "make", "model", "timecode")) for k in served_tags)
    assert not any("com.apple" in k for k in served_tags)
    assert (sent_tracks, served_tracks) == (["video", "audio", "data"], ["video", "audio"])
    assert served_video == sent_video  # the pictures, bit for bit
