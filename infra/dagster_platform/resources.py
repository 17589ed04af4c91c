"""Resources that talk to the outside world: the warehouse and the object store.

Two object stores share one interface so that every asset, sensor and the IO manager
run unchanged against MinIO/S3 (``docker`` deployment) and a local folder (``local``).
Errors from the outside world are turned into messages that say what to check.
"""

import datetime as dt
import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional, TypeVar

import pandas as pd
import sqlalchemy as sa
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from dagster import Backoff, ConfigurableResource, Jitter, RetryPolicy
from dagster_aws.s3 import S3Resource


class StorageError(RuntimeError):
    """The object store could not be used; the message says what to check."""


class ObjectNotFound(StorageError, KeyError):
    """The object does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True)
class StoredObject:
    """One version of an object: ``etag`` changes whenever its content is replaced."""

    key: str
    etag: str
    size: int
    last_modified: dt.datetime
    """When this version was written (UTC): "later" for orders deduplication."""


_T = TypeVar("_T")
_shared: dict[tuple, object] = {}
_shared_lock = threading.Lock()


def shared_in_process(settings: tuple, build: Callable[[], _T]) -> _T:
    """The one client or engine of this process for these settings.

    Dagster builds a sensor's resources afresh for every tick: file_sensor would otherwise
    build a boto3 client (0.1-0.4 s of CPU) and open new Postgres connections every few
    seconds. boto3 clients and SQLAlchemy engines are thread-safe. The process id is part of
    the key, so a forked child never uses (or closes) its parent's connections.
    """
    key = (os.getpid(), *settings)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = build()
        return _shared[key]  # type: ignore[return-value]


class ObjectStore(ConfigurableResource):
    """Interface of the object store: keys are ``/``-separated, like S3 keys."""

    def list_objects(self, prefix: str, start_after: Optional[str] = None) -> Iterator[StoredObject]:
        """Objects under ``prefix`` in key order, strictly after ``start_after``."""
        raise NotImplementedError

    def get_bytes(self, key: str) -> bytes:
        raise NotImplementedError

    def download(self, key: str, target: BinaryIO) -> StoredObject:
        """Stream the object into ``target``; returns the version that was read."""
        raise NotImplementedError

    def head(self, key: str) -> StoredObject:
        raise NotImplementedError

    def put_bytes(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def put_file(self, key: str, path: Path) -> None:
        """Upload a local file, streamed (multipart on S3), without reading it into memory."""
        raise NotImplementedError

    def uri(self, key: str) -> str:
        raise NotImplementedError


class S3ObjectStore(ObjectStore):
    """A bucket in S3 or any S3-compatible store (MinIO) reached through dagster-aws."""

    bucket: str
    s3: S3Resource

    def _get_client(self):
        return shared_in_process(("s3", self.s3.model_dump_json()), self.s3.get_client)

    @contextmanager
    def _explained(self, action: str, key: str = "") -> Iterator[None]:
        """Turn boto errors into a StorageError that says what to fix."""
        where = f"s3://{self.bucket}/{key}"
        try:
            yield
        except EndpointConnectionError as exc:
            raise StorageError(
                f"Cannot reach the object store at {self.s3.endpoint_url or 'AWS'} while trying to {action} "
                f"{where}: is MinIO running and S3_ENDPOINT_URL right? ({exc})"
            ) from exc
        except NoCredentialsError as exc:
            raise StorageError(
                f"No S3 credentials to {action} {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
            ) from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise ObjectNotFound(f"{where} does not exist ({action}).") from exc
            if code == "NoSuchBucket":
                raise StorageError(
                    f"Bucket {self.bucket!r} does not exist: check S3_BUCKET, or run the minio-init job."
                ) from exc
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"):
                raise StorageError(
                    f"The object store refused to {action} {where} ({code}): check AWS_ACCESS_KEY_ID / "
                    "AWS_SECRET_ACCESS_KEY and the pipeline user's policy."
                ) from exc
            raise StorageError(f"Could not {action} {where}: {code or exc}") from exc

    def list_objects(self, prefix: str, start_after: Optional[str] = None) -> Iterator[StoredObject]:
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        paginator = self._get_client().get_paginator("list_objects_v2")
        with self._explained("list", prefix):
            for page in paginator.paginate(**kwargs):
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"], item["ETag"].strip('"'), item["Size"], _utc(item["LastModified"]))

    def get_bytes(self, key: str) -> bytes:
        with self._explained("read", key):
            return self._get_client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def download(self, key: str, target: BinaryIO) -> StoredObject:
        with self._explained("read", key):
            response = self._get_client().get_object(Bucket=self.bucket, Key=key)
            shutil.copyfileobj(response["Body"], target, 1 << 20)
        return StoredObject(key, response["ETag"].strip('"'), response["ContentLength"], _utc(response["LastModified"]))

    def head(self, key: str) -> StoredObject:
        with self._explained("inspect", key):
            response = self._get_client().head_object(Bucket=self.bucket, Key=key)
        return StoredObject(key, response["ETag"].strip('"'), response["ContentLength"], _utc(response["LastModified"]))

    def put_bytes(self, key: str, data: bytes) -> None:
        with self._explained("write", key):
            self._get_client().put_object(Bucket=self.bucket, Key=key, Body=data)

    def put_file(self, key: str, path: Path) -> None:
        with self._explained("write", key):
            self._get_client().upload_file(str(path), self.bucket, key)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


class LocalObjectStore(ObjectStore):
    """A folder standing in for the bucket, for the Docker-free local mode and tests."""

    root: str

    def _path(self, key: str) -> Path:
        root = Path(self.root).resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root) or path == root:
            raise StorageError(f"Object key {key!r} escapes the local store {root}.")
        return path

    def list_objects(self, prefix: str, start_after: Optional[str] = None) -> Iterator[StoredObject]:
        root = Path(self.root).resolve()
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else root
        if not base.is_dir():
            return
        keys = sorted(p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file())
        for key in keys:
            if key.startswith(prefix) and (start_after is None or key > start_after):
                yield self._stored(key, root / key)

    @staticmethod
    def _stored(key: str, path: Path) -> StoredObject:
        stat = path.stat()
        etag = hashlib.md5(f"{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()
        modified = dt.datetime.fromtimestamp(stat.st_mtime_ns / 1e9, dt.timezone.utc)
        return StoredObject(key, etag, stat.st_size, modified)

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"{self.uri(key)} does not exist.")
        return path

    def get_bytes(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def download(self, key: str, target: BinaryIO) -> StoredObject:
        path = self._existing(key)
        stored = self._stored(key, path)
        with path.open("rb") as source:
            shutil.copyfileobj(source, target, 1 << 20)
        return stored

    def head(self, key: str) -> StoredObject:
        return self._stored(key, self._existing(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see half a file

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(path, tmp)
        tmp.replace(target)

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()


class WarehouseResource(ConfigurableResource):
    """The warehouse database, through one pooled SQLAlchemy engine per process and URL.

    Queries go through :meth:`read_frame` with bound parameters only; connections are
    returned to the pool by the ``with`` block even when a query fails.
    """

    drivername: str = "postgresql+psycopg2"
    host: Optional[str] = None
    port: Optional[int] = None
    database: str
    username: Optional[str] = None
    password: Optional[str] = None
    pool_size: int = 5
    connect_timeout_s: int = 10

    def url(self) -> sa.URL:
        return sa.URL.create(
            self.drivername,
            username=self.username,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.database,
        )

    def get_engine(self) -> sa.Engine:
        return shared_in_process(("engine", self.model_dump_json()), self._create_engine)

    def _create_engine(self) -> sa.Engine:
        if self.drivername.startswith("sqlite"):
            return sa.create_engine(self.url())
        return sa.create_engine(
            self.url(),
            pool_size=self.pool_size,
            pool_pre_ping=True,  # a restarted Postgres costs a reconnect, not a failed query
            connect_args={"connect_timeout": self.connect_timeout_s},
        )

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        try:
            with self.get_engine().connect() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            where = self.url().render_as_string(hide_password=True)
            raise StorageError(
                f"Cannot use the warehouse at {where}: {exc.orig}. Is the database up, and are "
                "WAREHOUSE_DB_USER / WAREHOUSE_DB_PASSWORD right?"
            ) from exc

    def read_frame(self, sql: str | sa.TextClause, **params) -> pd.DataFrame:
        """Run one SELECT with bound ``:name`` parameters and return its rows."""
        statement = sa.text(sql) if isinstance(sql, str) else sql
        with self.connect() as conn:
            return pd.read_sql_query(statement, conn, params=params)


# Every asset that does network I/O retries with a linear backoff and jitter, so a
# restarting MinIO or Postgres costs a few seconds instead of a failed run. The window
# (3+6+...+24 s = 108 s, +-3 s per retry) outlasts a one-minute outage, and near its end
# a retry comes every ~20 s, so a file lands soon after the store is back (docs/operations.md,
# What heals itself). A malformed file raises Failure(allow_retries=False): never retried.
NETWORK_RETRY_POLICY = RetryPolicy(max_retries=8, delay=3.0, backoff=Backoff.LINEAR, jitter=Jitter.PLUS_MINUS)
