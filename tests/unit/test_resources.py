"""The object stores and the warehouse resource, against a real S3 API and SQLite."""

import pytest
from dagster_aws.s3 import S3Resource

from dagster_platform.resources import ObjectNotFound, S3ObjectStore, StorageError, WarehouseResource


@pytest.fixture(params=["s3", "local"])
def store(request, s3_store, local_store):
    return s3_store if request.param == "s3" else local_store


def test_put_get_and_list_in_key_order(store):
    for key in ["incoming/orders/b.csv", "incoming/orders/a.csv", "incoming/other/c.csv"]:
        store.put_bytes(key, key.encode())
    listed = [obj.key for obj in store.list_objects("incoming/orders/")]
    assert listed == ["incoming/orders/a.csv", "incoming/orders/b.csv"]
    assert store.get_bytes("incoming/orders/b.csv") == b"incoming/orders/b.csv"


def test_start_after_skips_what_was_seen(store):
    for name in "abcd":
        store.put_bytes(f"p/{name}", b"x")
    assert [o.key for o in store.list_objects("p/", start_after="p/b")] == ["p/c", "p/d"]


def test_etag_changes_with_content(store):
    store.put_bytes("p/x", b"one")
    first = next(store.list_objects("p/")).etag
    store.put_bytes("p/x", b"two, longer")
    assert next(store.list_objects("p/")).etag != first


def test_missing_object_is_a_clear_error(store):
    with pytest.raises(ObjectNotFound, match="does not exist"):
        store.get_bytes("nope/missing.parquet")


def test_local_store_refuses_keys_that_escape_its_root(local_store):
    with pytest.raises(StorageError, match="escapes"):
        local_store.put_bytes("../outside", b"x")


def test_s3_store_down_says_what_to_check():
    store = S3ObjectStore(
        bucket="b",
        s3=S3Resource(
            endpoint_url="http://127.0.0.1:9",
            aws_access_key_id="k",
            aws_secret_access_key="s",
            region_name="us-east-1",
            max_attempts=1,
        ),
    )
    with pytest.raises(StorageError, match="Cannot reach the object store .* S3_ENDPOINT_URL"):
        store.get_bytes("x")


def test_missing_bucket_names_the_setting(s3_store):
    other = S3ObjectStore(bucket="no-such-bucket", s3=s3_store.s3)
    with pytest.raises(StorageError, match="S3_BUCKET"):
        other.put_bytes("x", b"x")


def test_warehouse_binds_parameters(warehouse):
    hostile = "P-001' OR '1'='1"
    assert warehouse.read_frame("SELECT * FROM products WHERE product_id = :pid", pid=hostile).empty
    assert len(warehouse.read_frame("SELECT * FROM products WHERE product_id = :pid", pid="P-001")) == 1


def test_warehouse_down_hides_the_password():
    warehouse = WarehouseResource(
        host="127.0.0.1", port=9, database="w", username="u", password="s3cret-pw", connect_timeout_s=1
    )
    with pytest.raises(StorageError) as error:
        warehouse.read_frame("SELECT 1")
    assert "s3cret-pw" not in str(error.value)
    assert "WAREHOUSE_DB_PASSWORD" in str(error.value)


def test_a_new_resource_with_the_same_settings_reuses_the_client_and_the_engine(s3_store, tmp_path):
    """Each sensor tick builds its resources afresh; the client and engine outlive them."""
    again = S3ObjectStore(bucket="another-bucket", s3=S3Resource(**s3_store.s3.model_dump()))
    assert again._get_client() is s3_store._get_client()
    other_endpoint = S3ObjectStore(bucket=s3_store.bucket, s3=S3Resource(endpoint_url="http://127.0.0.1:9"))
    assert other_endpoint._get_client() is not s3_store._get_client()

    def warehouse(name: str) -> WarehouseResource:
        return WarehouseResource(drivername="sqlite", database=str(tmp_path / name))

    assert warehouse("w.db").get_engine() is warehouse("w.db").get_engine()
    assert warehouse("w.db").get_engine() is not warehouse("other.db").get_engine()


def test_a_forked_process_gets_its_own_engine(tmp_path, monkeypatch):
    warehouse = WarehouseResource(drivername="sqlite", database=str(tmp_path / "w.db"))
    parent = warehouse.get_engine()
    monkeypatch.setattr("dagster_platform.resources.os.getpid", lambda: -1)
    assert warehouse.get_engine() is not parent
