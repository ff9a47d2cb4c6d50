"""The media store on an S3-compatible object store: AWS S3, SeaweedFS, MinIO, ...

Same contract as the local directory: every key is validated before it reaches the store, a put
replaces an object in one step (S3 never shows a partial object), a missing key reads as None.
Objects live under `prefix` in `bucket`, the bucket is created when missing, and every failure
to reach or use the store is a MediaError that names the endpoint, the bucket and what to check.

S3 cannot append to an object. An appended key is kept as pieces: each `append` is one object
`<key>/<offset, 16 digits>`, durable when the put returns and readable at once from every node
(a local spool uploaded when the hour closes would hide the current hour from other API nodes
and keep indexed video on one node's disk). A key's pieces read, size and delete as one key.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
)

from vigil.store.media.base import MediaError, validate_key

_PIECE_DIGITS = 16
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_DENIED = frozenset({"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"})


class S3MediaStore:
    """Objects under `prefix` in `bucket`. The content type is kept as object metadata, so the
    store serves it back. One boto3 client is shared by every thread (clients are
    thread-safe; sessions are not, hence a session of its own)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = f"{validate_key(prefix)}/" if prefix else ""
        self.endpoint = endpoint_url or f"AWS S3 ({region})"
        self._region = region
        config = Config(
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            # Self-hosted stores (SeaweedFS, MinIO) serve buckets by path, not by host name.
            s3={"addressing_style": "path"} if endpoint_url else {},
        )
        self._client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=config,
        )
        self._ends: dict[str, int] = {}  # keys this process appends to: their end
        self._lock = threading.Lock()
        self._ensure_bucket()

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self._key(key)
        with self._errors(f"storing {name!r}"):
            self._client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType=content_type
            )

    def sync(self, keys: Collection[str]) -> None:
        """Nothing to do: every appended piece was durable when its put returned."""

    def append(self, key: str, data: bytes) -> int:
        with self._lock:
            end = self._ends.get(key)
        if end is None:
            end = sum(size for _offset, size in self._pieces(key))
        self.put(_piece(key, end), data, "application/octet-stream")
        with self._lock:
            self._ends[key] = end + len(data)
        return end

    def end_append(self, key: str) -> None:
        with self._lock:
            self._ends.pop(key, None)

    def read_range(self, key: str, offset: int, length: int) -> bytes | None:
        piece = self.get(_piece(key, offset))
        if piece is None:  # a whole object (put), read by range
            name = self._key(key)
            with self._errors(f"reading {name!r}"):
                try:
                    response = self._client.get_object(
                        Bucket=self.bucket, Key=name, Range=f"bytes={offset}-{offset + length - 1}"
                    )
                except ClientError as error:
                    if _code(error) in _MISSING or _code(error) == "InvalidRange":
                        return None
                    raise
                piece = response["Body"].read()
        return piece if piece is not None and len(piece) == length else None

    def truncate(self, key: str, length: int) -> None:
        pieces = self._pieces(key)
        if any(offset < length < offset + size for offset, size in pieces):
            raise MediaError(f"{key!r}: {length} is not where an appended piece starts or ends")
        for offset, _size in pieces:
            if offset >= length:
                self._delete_one(_piece(key, offset))
        with self._lock:
            if key in self._ends:
                self._ends[key] = min(self._ends[key], length)

    def delete_prefix(self, prefix: str) -> int:
        freed = 0
        for name, size in self._list(f"{validate_key(prefix)}/"):
            self._delete_one(name)
            freed += size
        with self._lock:
            for key in [k for k in self._ends if k.startswith(f"{prefix}/")]:
                del self._ends[key]
        return freed

    def _delete_one(self, key: str) -> None:
        name = self._key(key)
        with self._errors(f"deleting {name!r}"):
            # S3 answers 204 whether or not the object was there.
            self._client.delete_object(Bucket=self.bucket, Key=name)

    def _pieces(self, key: str) -> list[tuple[int, int]]:
        """(offset, size) of the pieces appended to `key`, in order."""
        start = len(validate_key(key)) + 1
        return sorted(
            (int(name[start:]), size)
            for name, size in self._list(f"{key}/")
            if name[start:].isdigit() and len(name) - start == _PIECE_DIGITS
        )

    def _list(self, prefix: str) -> list[tuple[str, int]]:
        """(key, size) of every object whose key starts with `prefix`."""
        with self._errors(f"listing {self.prefix + prefix!r}"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            return [
                (item["Key"][len(self.prefix) :], int(item["Size"]))
                for page in pages
                for item in page.get("Contents", [])
            ]

    def get(self, key: str) -> bytes | None:
        name = self._key(key)
        with self._errors(f"reading {name!r}"):
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=name)
            except ClientError as error:
                if _code(error) in _MISSING:
                    return None
                raise
            body: bytes = response["Body"].read()
            return body

    def delete(self, key: str) -> None:
        """The object and, if it was appended to, its pieces."""
        self._delete_one(key)
        for offset, _size in self._pieces(key):
            self._delete_one(_piece(key, offset))
        self.end_append(key)

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        name = self._key(key)
        with self._errors(f"looking up {name!r}"):
            try:
                response = self._client.head_object(Bucket=self.bucket, Key=name)
            except ClientError as error:
                if _code(error) not in _MISSING:
                    raise
                pieces = self._pieces(key)
                return sum(size for _offset, size in pieces) if pieces else None
            return int(response["ContentLength"])

    def total_bytes(self) -> int:
        # Every object under the prefix: another prefix in the bucket is another store.
        with self._errors("listing objects"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            return sum(item["Size"] for page in pages for item in page.get("Contents", []))

    def _ensure_bucket(self) -> None:
        # Looked up first: a key allowed to use a bucket need not be allowed to create one.
        with self._errors("opening the bucket"):
            try:
                self._client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as error:
                if _code(error) not in _MISSING:
                    raise
            # AWS wants the region named, except us-east-1, which it rejects when named.
            where = {} if self._region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": self._region}
            }
            # Made by another node in the meantime: just as good.
            with contextlib.suppress(self._client.exceptions.BucketAlreadyOwnedByYou):
                self._client.create_bucket(Bucket=self.bucket, **where)

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (BotoCoreError, ClientError) as error:
            raise MediaError(
                f"S3 media store {self.endpoint}, bucket {self.bucket!r}: {doing} failed: "
                f"{error}; {_hint(error)}"
            ) from error


def _piece(key: str, offset: int) -> str:
    return f"{key}/{offset:0{_PIECE_DIGITS}d}"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _hint(error: Exception) -> str:
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError)):
        return "check that the S3 server runs and that store.s3.endpoint names it"
    if isinstance(error, NoCredentialsError):
        return ("set store.s3.access_key and store.s3.secret_key, or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY")
    if isinstance(error, ClientError) and _code(error) in _DENIED:
        return ("check the access key and secret (store.s3.access_key / secret_key or "
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and that they may use this bucket")
    if isinstance(error, ClientError) and _code(error) == "BucketAlreadyExists":
        return "the bucket name is taken by another account; choose another in store.media_url"
    return "check store.media_url, store.s3.endpoint and store.s3.region"
