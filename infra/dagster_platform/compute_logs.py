"""S3 compute logs signed with their own MinIO identity.

dagster_aws' ``S3ComputeLogManager`` takes no credentials: its boto3 client reads the
default chain, i.e. the pipelines' ``AWS_*`` variables in run containers. This subclass
adds ``access_key_id`` / ``secret_access_key`` (dagster.yaml passes COMPUTE_LOGS_*), so
the webserver holds no pipeline credentials and the compute-logs identity can be limited
to ``compute-logs/`` while the pipelines' is kept out of it.
"""

from __future__ import annotations

import boto3
from dagster import Field, StringSource
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager as _S3ComputeLogManager


class S3ComputeLogManager(_S3ComputeLogManager):
    def __init__(
        self,
        bucket,
        *,
        access_key_id: str,
        secret_access_key: str,
        use_ssl=True,
        verify=True,
        verify_cert_path=None,
        endpoint_url=None,
        **kwargs,
    ):
        super().__init__(
            bucket,
            use_ssl=use_ssl,
            verify=verify,
            verify_cert_path=verify_cert_path,
            endpoint_url=endpoint_url,
            **kwargs,
        )
        # The same client the base class builds, with explicit credentials instead of
        # boto3's default chain.
        session = boto3.session.Session(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)
        self._s3_session = session.resource(
            "s3",
            use_ssl=use_ssl,
            verify=verify_cert_path if verify else False,
            endpoint_url=endpoint_url,
        ).meta.client

    @classmethod
    def config_type(cls):
        return {
            **super().config_type(),
            "access_key_id": Field(StringSource, description="compute-logs identity (COMPUTE_LOGS_ACCESS_KEY_ID)"),
            "secret_access_key": Field(StringSource, description="its secret (COMPUTE_LOGS_SECRET_ACCESS_KEY)"),
        }
