"""An in-memory patient-share for the gateway's sender: uploads, pre-signed POSTs and each file's status,
with switches for the service being down, S3 refusing, and the index taking its time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from gateway.api import FileState, PresignedPost, Refused, RequestedUpload, Unavailable


class Crash(BaseException):
    """Stands for ``kill -9`` at a chosen point: nothing after it runs (not an Exception, so nothing
    in the sender catches it)."""


@dataclass
class FakeUpload:
    upload_id: str
    states: list[FileState]
    bodies: dict[int, bytes] = field(default_factory=dict)


class FakeServiceApi:
    """``indexing``: ``immediate`` (a posted file is indexed at once) or ``manual`` (``index_all()``).
    A posted body that starts with ``b"corrupt"`` is refused by the index with a reason, as the service's
    ingest refuses a file that is not DICOM."""

    def __init__(self, *, indexing: str = "immediate") -> None:
        self.uploads: dict[str, FakeUpload] = {}
        self.down = False
        self.s3_refuses = False
        self.indexing = indexing
        self.requests: list[int] = []
        self.posts: list[tuple[str, int]] = []
        self.status_calls = 0
        #: Raise ``Crash`` after this many more successful S3 posts (None: never).
        self.crash_after_posts: int | None = None

    # ---------------------------------------------------------------------------------------------- the port

    def request_upload(self, count: int) -> RequestedUpload:
        self._check_up()
        upload_id = f"up_{secrets.token_hex(10)}"
        self.uploads[upload_id] = FakeUpload(upload_id, [FileState(i, "pending", None) for i in range(count)])
        self.requests.append(count)
        posts = tuple(
            PresignedPost(f"https://s3.example.test/ingest/{upload_id}/{i}", {"key": f"{upload_id}/{i}"})
            for i in range(count)
        )
        return RequestedUpload(upload_id, posts)

    def post_file(self, post: PresignedPost, path: Path) -> None:
        self._check_up()
        if self.s3_refuses:
            raise Refused("S3 refused the upload with HTTP 403 (AccessDenied)")
        upload_id, index = post.fields["key"].split("/")
        upload = self.uploads[upload_id]
        upload.bodies[int(index)] = path.read_bytes()
        self.posts.append((upload_id, int(index)))
        if self.indexing == "immediate":
            self._index(upload, int(index))
        if self.crash_after_posts is not None:
            self.crash_after_posts -= 1
            if self.crash_after_posts < 0:
                raise Crash

    def upload_status(self, upload_id: str) -> list[FileState]:
        self._check_up()
        self.status_calls += 1
        return list(self.uploads[upload_id].states)

    # ---------------------------------------------------------------------------------------------- helpers

    def index_all(self) -> None:
        for upload in self.uploads.values():
            for index in upload.bodies:
                self._index(upload, index)

    def stored_bodies(self) -> list[bytes]:
        """Every body the index holds, once per stored file of every upload."""
        return [u.bodies[s.index] for u in self.uploads.values() for s in u.states if s.status == "stored"]

    def _index(self, upload: FakeUpload, index: int) -> None:
        body = upload.bodies[index]
        upload.states[index] = (
            FileState(index, "failed", "The file is not DICOM (no DICM prefix)")
            if body.startswith(b"corrupt")
            else FileState(index, "stored", None)
        )

    def _check_up(self) -> None:
        if self.down:
            raise Unavailable("the service could not be reached (ConnectionError)")
