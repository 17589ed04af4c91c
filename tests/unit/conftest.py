"""Fixtures for the Docker-free tests: a real S3 API (moto's server, in-process), a real
PostgreSQL server (a throwaway cluster, tooling/postgres.py) for the orders store, and
SQLite for the local mode, seeded by the project's own generator."""

from __future__ import annotations

import itertools
import os

import boto3
import pytest
import sqlalchemy as sa
from dagster_aws.s3 import S3Resource
from moto.server import ThreadedMotoServer

from dagster_platform.resources import LocalObjectStore, S3ObjectStore, WarehouseResource
from tooling.postgres import server_binaries, throwaway_postgres
from orders_and_sales.sample_data import generate_sales, seed_warehouse
from dagster_platform.environment import pipeline_resources

TEST_BUCKET = "test-lake"


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3 API on a loopback port for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint, request) -> S3ObjectStore:
    """A fresh, empty bucket per test on the in-process S3 API."""
    bucket = f"{TEST_BUCKET}-{abs(hash(request.node.nodeid)) % 10**8}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
    client = boto3.client("s3", endpoint_url=s3_endpoint, **credentials)
    client.create_bucket(Bucket=bucket)
    yield S3ObjectStore(bucket=bucket, s3=S3Resource(endpoint_url=s3_endpoint, **credentials))
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def local_store(tmp_path) -> LocalObjectStore:
    return LocalObjectStore(root=str(tmp_path / "lake"))


@pytest.fixture(scope="session")
def warehouse_path(tmp_path_factory):
    """A SQLite warehouse seeded once per session with a short, fixed stretch of sales."""
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.db"
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)))
    seed_warehouse(engine, sales=generate_sales(per_day=20))
    engine.dispose()
    return path


@pytest.fixture
def warehouse(warehouse_path) -> WarehouseResource:
    return WarehouseResource(drivername="sqlite", database=str(warehouse_path))


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster for the session (required in CI)."""
    if server_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing: apt-get install postgresql-15", pytrace=False)
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql-15)")
    with throwaway_postgres() as settings:
        yield settings


_databases = itertools.count()


def _new_database(postgres_server: dict, options: str = ""):
    name = f"orders_{next(_databases)}"
    admin = sa.create_engine(sa.URL.create("postgresql+psycopg2", **postgres_server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" {options}'))
    admin.dispose()
    resource = WarehouseResource(**{**postgres_server, "database": name})
    yield resource
    resource.get_engine().dispose()


@pytest.fixture
def orders_db(postgres_server) -> WarehouseResource:
    """A fresh, empty orders store per test, in its own Postgres database."""
    yield from _new_database(postgres_server)


@pytest.fixture
def en_us_orders_db(postgres_server) -> WarehouseResource:
    """An empty database whose default collation is linguistic en-US, like the postgres
    image's (en_US.utf8): "B" sorts after "a" there."""
    yield from _new_database(postgres_server, "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")


@pytest.fixture
def sqlite_orders_db(tmp_path) -> WarehouseResource:
    """The local mode's orders store."""
    return WarehouseResource(drivername="sqlite", database=str(tmp_path / "orders.db"))


@pytest.fixture
def s3_resources(s3_store, warehouse, orders_db) -> dict:
    """The resources dict the docker deployment builds, against the test services."""
    return pipeline_resources(s3_store, warehouse, orders_db)


class SimulatedTime:
    """A clock and a sleep for code that takes them (``clock=``, ``sleep=``): time starts at 0
    and moves only by the sleeps asked for (kept in ``sleeps``) and by ``advance``."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def simulated_time() -> SimulatedTime:
    return SimulatedTime()
