"""The service's HTTP API, as the sender uses it: pre-signed uploads and their status.

``ServiceApi`` is the port; ``HttpServiceApi`` talks to patient-share over HTTPS with the clinic's key,
and the tests give the sender an in-memory fake instead. Two kinds of failure matter to the sender:
``Unavailable`` (try again later: network, 5xx, throttling, a key the service refuses) and ``Refused``
(this file will never go: S3 turned the pre-signed POST down).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from requests_toolbelt.multipart.encoder import MultipartEncoder  # type: ignore[import-untyped]

#: Seconds to connect and between bytes; a 138 MB file takes longer in total, and that is fine.
TIMEOUT_S = (10, 120)


class Unavailable(Exception):
    """The service or the network failed us this time; the same call may work later."""


class Refused(Exception):
    """The service (or S3) refuses this file for good; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class RequestedUpload:
    upload_id: str
    posts: tuple[PresignedPost, ...]


@dataclass(frozen=True)
class FileState:
    """One file of an upload as ``GET /studies/uploads/{id}`` reports it."""

    index: int
    status: str  # pending | stored | failed
    reason: str | None


class ServiceApi(Protocol):
    def request_upload(self, count: int) -> RequestedUpload:
        """``POST /studies/uploads``: pre-signed POSTs for ``count`` files, as one upload."""
        ...

    def post_file(self, post: PresignedPost, path: Path) -> None:
        """Send one file to its pre-signed POST, streamed from disk."""
        ...

    def upload_status(self, upload_id: str) -> list[FileState]:
        """``GET /studies/uploads/{id}``: each file's fate."""
        ...


class HttpServiceApi:
    """patient-share over HTTP(S). The key file is read for every call, so a new key needs no restart."""

    def __init__(self, base_url: str, key_file: Path, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_file = key_file
        self._session = session or requests.Session()

    def request_upload(self, count: int) -> RequestedUpload:
        body = self._call("POST", "/studies/uploads", json={"files": count})
        return RequestedUpload(
            upload_id=str(body["upload_id"]),
            posts=tuple(
                PresignedPost(str(f["upload"]["url"]), {str(k): str(v) for k, v in f["upload"]["fields"].items()})
                for f in body["files"]
            ),
        )

    def post_file(self, post: PresignedPost, path: Path) -> None:
        with path.open("rb") as file:
            body = MultipartEncoder(fields={**post.fields, "file": ("instance.dcm", file, "application/dicom")})
            try:
                response = self._session.post(
                    post.url, data=body, headers={"Content-Type": body.content_type}, timeout=TIMEOUT_S
                )
            except requests.RequestException as err:
                raise Unavailable(f"S3 could not be reached ({type(err).__name__})") from err
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise Unavailable(f"S3 answered {response.status_code}")
        if response.status_code >= 400:
            raise Refused(f"S3 refused the upload with HTTP {response.status_code}{_s3_code(response.text)}")

    def upload_status(self, upload_id: str) -> list[FileState]:
        body = self._call("GET", f"/studies/uploads/{upload_id}")
        return [
            FileState(int(f["index"]), str(f["status"]), str(f["reason"]) if f.get("reason") else None)
            for f in body["files"]
        ]

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None) -> Any:
        try:
            key = self.key_file.read_text().strip()
        except OSError as err:
            raise Unavailable(f"the API key file cannot be read ({type(err).__name__})") from err
        try:
            response = self._session.request(
                method, self.base_url + path, json=json, headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT_S
            )
        except requests.RequestException as err:
            raise Unavailable(f"the service could not be reached ({type(err).__name__})") from err
        if response.status_code in (401, 403):
            raise Unavailable(f"the service refused the API key (HTTP {response.status_code})")
        if response.status_code >= 300:
            raise Unavailable(f"the service answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as err:
            raise Unavailable("the service answered something that is not JSON") from err


def _s3_code(text: str) -> str:
    """S3's error code (``AccessDenied``, ``EntityTooLarge``) from its XML answer, if there is one."""
    start, end = text.find("<Code>"), text.find("</Code>")
    return f" ({text[start + 6 : end][:60]})" if 0 <= start < end else ""
