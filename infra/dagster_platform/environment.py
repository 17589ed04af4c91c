"""The one mapping from deployment to the pipelines' resources, shared by the code locations.

``DAGSTER_DEPLOYMENT=docker`` (the compose stack) reads every connection setting and
secret through ``EnvVar``, so values are resolved at run time and never stored in
definitions or run configs. ``local`` (the default, for ``dagster dev``) needs no
services: a SQLite warehouse and a folder standing in for the bucket.

Nothing here runs at import, and building the resources opens no connection and writes
no file: a location calls ``resources_for()`` when its definitions load (its
``defs/resources.py``), and the local sample data is an explicit step
(``make dev`` runs ``python -m orders_and_sales.sample_data seed``).
"""

from __future__ import annotations

import os
from typing import Any
from pathlib import Path

from dagster import EnvVar
from dagster_aws.s3 import S3Resource

from .io_managers import ParquetIOManager
from .resources import LocalObjectStore, ObjectStore, S3ObjectStore, WarehouseResource
from .variables import ConfigurationError, required_by_docker, setting

DEPLOYMENTS = ("local", "docker")

# Every variable the docker deployment reads; all must be set and non-empty.
DOCKER_VARIABLES = required_by_docker()


def current_deployment() -> str:
    deployment = setting("DAGSTER_DEPLOYMENT")
    if deployment not in DEPLOYMENTS:
        raise ConfigurationError(f"DAGSTER_DEPLOYMENT={deployment!r} is not one of {', '.join(DEPLOYMENTS)}.")
    return deployment


def schedule_timezone() -> str:
    """IANA timezone of the schedules and daily partitions (``SCHEDULE_TIMEZONE``, default UTC)."""
    return setting("SCHEDULE_TIMEZONE")


def require_variables(names: tuple[str, ...]) -> None:
    """Fail at load time, naming every missing variable, instead of at the first run."""
    missing = [name for name in names if not os.environ.get(name, "").strip()]
    if missing:
        raise ConfigurationError(
            f"Missing or empty environment variables: {', '.join(missing)}. "
            "Set them in .env (every variable is listed in .env.example)."
        )


def docker_resources() -> dict:
    require_variables(DOCKER_VARIABLES)
    store = S3ObjectStore(
        bucket=EnvVar("S3_BUCKET"),
        s3=S3Resource(
            endpoint_url=EnvVar("S3_ENDPOINT_URL"),
            aws_access_key_id=EnvVar("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=EnvVar("AWS_SECRET_ACCESS_KEY"),
            region_name=setting("AWS_REGION"),
        ),
    )
    server: dict[str, Any] = {
        "host": EnvVar("WAREHOUSE_DB_HOST"),
        "port": EnvVar.int("WAREHOUSE_DB_PORT"),
        "database": EnvVar("WAREHOUSE_DB_NAME"),
    }
    # Two roles on one database: the pipelines read the warehouse, and only the orders
    # store (schema orders) is writable, by its own role.
    warehouse = WarehouseResource(
        **server, username=EnvVar("WAREHOUSE_DB_USER"), password=EnvVar("WAREHOUSE_DB_PASSWORD")
    )
    orders_db = WarehouseResource(**server, username=EnvVar("ORDERS_DB_USER"), password=EnvVar("ORDERS_DB_PASSWORD"))
    return pipeline_resources(store, warehouse, orders_db)


def pipeline_resources(
    store: ObjectStore,
    warehouse: WarehouseResource | None = None,
    orders_db: WarehouseResource | None = None,
    **others: Any,
) -> dict:
    """The resources dict, shaped in this one place: the object store and the Parquet IO
    manager on it, the two database roles when given, and ``others`` by name. Both
    deployments, the tests and the benchmarks build theirs with it."""
    resources: dict[str, Any] = {"object_store": store, "io_manager": ParquetIOManager(store=store)}
    for name, resource in (("warehouse", warehouse), ("orders_db", orders_db)):
        if resource is not None:
            resources[name] = resource
    return resources | others


def local_data_dir() -> Path:
    return Path(setting("LOCAL_DATA_DIR")).resolve()


def local_resources(root: Path | None = None) -> dict:
    """A SQLite warehouse and a folder lake under ``root``. Nothing is created here: the
    store writes its folders when it first stores an object, and ``make dev`` seeds the
    warehouse beforehand (``python -m orders_and_sales.sample_data seed``)."""
    root = root or local_data_dir()
    database = root / "warehouse.db"
    store = LocalObjectStore(root=str(root / "lake"))
    warehouse = WarehouseResource(drivername="sqlite", database=str(database))
    orders_db = WarehouseResource(drivername="sqlite", database=str(root / "orders.db"))
    return pipeline_resources(store, warehouse, orders_db)


def resources_for(deployment: str | None = None) -> dict:
    deployment = deployment or current_deployment()
    return docker_resources() if deployment == "docker" else local_resources()
