"""dagster_platform.compute_logs: compute logs signed with their own identity, not the
pipelines' AWS_* variables that boto3's default chain would pick up in a run container."""

from __future__ import annotations

import boto3
import yaml

from dagster_platform.compute_logs import S3ComputeLogManager
from tooling.dagster_config import validated_config
from tooling.stack import ROOT


def test_uses_its_own_credentials_over_the_pipelines(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "pipelines-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "pipelines-secret")
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket="logs-test")
    manager = S3ComputeLogManager(
        "logs-test",
        access_key_id="logs-key",
        secret_access_key="logs-secret",
        endpoint_url=s3_endpoint,
        prefix="compute-logs",
        region="us-east-1",
    )
    credentials = manager._s3_session._request_signer._credentials  # the client every call goes through
    assert (credentials.access_key, credentials.secret_key) == ("logs-key", "logs-secret")
    manager._s3_session.put_object(Bucket="logs-test", Key="compute-logs/x.err", Body=b"step output")
    assert manager._s3_session.get_object(Bucket="logs-test", Key="compute-logs/x.err")["Body"].read() == b"step output"


def test_dagster_yaml_config_is_valid_for_it(monkeypatch):
    section = yaml.safe_load((ROOT / "dagster.yaml").read_text())["compute_logs"]
    assert (section["module"], section["class"]) == ("dagster_platform.compute_logs", "S3ComputeLogManager")
    for name in (
        "S3_BUCKET",
        "S3_ENDPOINT_URL",
        "AWS_REGION",
        "COMPUTE_LOGS_ACCESS_KEY_ID",
        "COMPUTE_LOGS_SECRET_ACCESS_KEY",
    ):
        monkeypatch.setenv(name, f"value-of-{name}")
    config = validated_config(S3ComputeLogManager.config_type(), section["config"])
    assert config["access_key_id"] == "value-of-COMPUTE_LOGS_ACCESS_KEY_ID"
