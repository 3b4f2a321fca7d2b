"""ObjectStore on S3. Reads are ranged, so parsing a header never downloads a whole cine."""

from __future__ import annotations

import io
from typing import Any, BinaryIO
from urllib.parse import quote

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from chalicelib.domain.errors import NotFound
from chalicelib.services.ports import PresignedPost

READ_AHEAD = 256 * 1024
_STREAMING = TransferConfig(multipart_chunksize=8 * 1024 * 1024, max_concurrency=2)
_STREAMING.max_in_memory_upload_chunks = 3  # parts read ahead of the upload: at most 24 MB held (default 10)
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3ObjectStore:
    """ObjectStore on an S3 client (real S3, or moto through ``AWS_ENDPOINT_URL``)."""

    def __init__(self, client: Any) -> None:
        self._s3 = client

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def open(self, bucket: str, key: str) -> BinaryIO:
        return io.BufferedReader(_RangeReader(self._s3, bucket, key, self.size(bucket, key)), READ_AHEAD)

    def size(self, bucket: str, key: str) -> int:
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if err.response["Error"]["Code"] in _MISSING:
                raise NotFound("No such object") from err
            raise
        return int(head["ContentLength"])

    def download(self, bucket: str, key: str, path: str) -> None:
        try:
            self._s3.download_file(bucket, key, path)
        except ClientError as err:
            if err.response["Error"]["Code"] in _MISSING:
                raise NotFound("No such object") from err
            raise

    def upload(self, bucket: str, key: str, path: str, content_type: str) -> None:
        self._s3.upload_file(path, bucket, key, ExtraArgs={"ContentType": content_type})

    def upload_stream(self, bucket: str, key: str, stream: BinaryIO, content_type: str) -> None:
        # A multipart upload of 8 MB parts, two in flight and three held: memory stays bounded whatever the size.
        self._s3.upload_fileobj(stream, bucket, key, ExtraArgs={"ContentType": content_type}, Config=_STREAMING)

    def move(self, bucket: str, source: str, target: str) -> None:
        try:
            self._s3.copy({"Bucket": bucket, "Key": source}, bucket, target)
        except ClientError as err:
            if err.response["Error"]["Code"] in _MISSING:
                raise NotFound("No such object") from err
            raise
        self._s3.delete_object(Bucket=bucket, Key=source)

    def delete(self, bucket: str, key: str) -> None:
        self._s3.delete_object(Bucket=bucket, Key=key)

    def presigned_post(
        self, bucket: str, key: str, *, max_bytes: int, expires_s: int, content_type: str | None = None
    ) -> PresignedPost:
        fields: dict[str, str] = {}
        conditions: list[Any] = [["content-length-range", 1, max_bytes]]
        if content_type is not None:
            fields["Content-Type"] = content_type
            conditions.append({"Content-Type": content_type})
        post = self._s3.generate_presigned_post(
            Bucket=bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_s
        )
        return PresignedPost(url=post["url"], fields=dict(post["fields"]))

    def presigned_get(
        self,
        bucket: str,
        key: str,
        *,
        expires_s: int,
        filename: str | None = None,
        inline: bool = True,
        content_type: str | None = None,
    ) -> str:
        # S3's response overrides: signed into the URL, so whoever holds it cannot change them.
        params: dict[str, str] = {"Bucket": bucket, "Key": key}
        if filename is not None:
            params["ResponseContentDisposition"] = content_disposition(filename, inline=inline)
        if content_type is not None:
            params["ResponseContentType"] = content_type
        url: str = self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)
        return url


def content_disposition(filename: str, *, inline: bool) -> str:
    """A Content-Disposition header safe for any file name (RFC 6266 with an RFC 5987 UTF-8 form)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class _RangeReader(io.RawIOBase):
    """A seekable raw stream over an S3 object, fetching each read with a Range GET."""

    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        self._s3, self._bucket, self._key, self._size = client, bucket, key, size
        self._position = 0
        self.name = f"s3://{bucket}/{key}"  # readers such as pydicom ask a stream for its name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        end = self._position + wanted - 1
        response = self._s3.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={self._position}-{end}")
        data = response["Body"].read()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
