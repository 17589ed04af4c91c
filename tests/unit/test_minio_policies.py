"""The MinIO identities' policies, as infra/minio/init.sh creates them.

The MinIO stand-in of the e2e stack accepts any credentials and enforces no policy, so
what each identity may do is checked here, statically: init.sh runs against a stub `mc`
that records the policy documents and the attachments it is asked to make.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "lake-under-test"
KEYS = {"uploader": "uploader-key", "pipelines": "pipelines-key", "compute-logs": "compute-logs-key"}

# Records `admin policy create NAME FILE` (copies FILE) and `admin policy attach NAME --user U`.
STUB_MC = """#!/bin/sh
case "$1 $2 $3" in
  "admin policy create") cp "$6" "$RECORD/policy-$5.json" ;;
  "admin policy attach") echo "$5 $7" >>"$RECORD/attach" ;;
esac
exit 0
"""


@pytest.fixture(scope="module")
def created(tmp_path_factory) -> tuple[dict[str, dict], dict[str, str]]:
    """(policy name -> document, user -> policy name) from one run of init.sh."""
    work = tmp_path_factory.mktemp("minio-init")
    (work / "bin").mkdir()
    (work / "bin/mc").write_text(STUB_MC)
    (work / "bin/mc").chmod(0o755)
    env = {
        "PATH": f"{work / 'bin'}:/usr/bin:/bin",
        "RECORD": str(work),
        "S3_BUCKET": BUCKET,
        "MINIO_ROOT_USER": "root",
        "MINIO_ROOT_PASSWORD": "root-secret",
        "UPLOADER_ACCESS_KEY_ID": KEYS["uploader"],
        "UPLOADER_SECRET_ACCESS_KEY": "s1",
        "AWS_ACCESS_KEY_ID": KEYS["pipelines"],
        "AWS_SECRET_ACCESS_KEY": "s2",
        "COMPUTE_LOGS_ACCESS_KEY_ID": KEYS["compute-logs"],
        "COMPUTE_LOGS_SECRET_ACCESS_KEY": "s3",
    }
    done = subprocess.run(["sh", str(ROOT / "infra/minio/init.sh")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "s1" not in done.stdout + done.stderr and "root-secret" not in done.stdout + done.stderr
    policies = {path.stem.removeprefix("policy-"): json.loads(path.read_text()) for path in work.glob("policy-*.json")}
    attached = dict(reversed(line.split()) for line in (work / "attach").read_text().splitlines())
    return policies, attached


def statements(created, identity: str) -> list[dict]:
    policies, attached = created
    document = policies[attached[KEYS[identity]]]
    assert all(s["Effect"] == "Allow" for s in document["Statement"])
    return document["Statement"]


def object_grants(created, identity: str) -> dict[str, set[str]]:
    """resource -> actions, for object-level statements."""
    grants: dict[str, set[str]] = {}
    for statement in statements(created, identity):
        for resource in statement["Resource"]:
            if resource.startswith(f"arn:aws:s3:::{BUCKET}/"):
                grants.setdefault(resource.split("/", 1)[1], set()).update(statement["Action"])
    return grants


def test_each_identity_has_its_own_policy(created):
    policies, attached = created
    assert set(attached) == set(KEYS.values())
    assert len({attached[key] for key in KEYS.values()}) == 3
    assert all(BUCKET in name for name in policies)


def test_no_identity_can_administer_minio(created):
    policies, _ = created
    for name, document in policies.items():
        actions = {action for s in document["Statement"] for action in s["Action"]}
        assert all(action.startswith("s3:") and "*" not in action for action in actions), (name, actions)
        resources = {r for s in document["Statement"] for r in s["Resource"]}
        assert all(r.startswith(f"arn:aws:s3:::{BUCKET}") for r in resources), (name, resources)


def test_uploader_may_only_put_into_incoming_orders(created):
    assert object_grants(created, "uploader") == {
        "incoming/orders/*": {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
    }
    assert all(
        r.startswith(f"arn:aws:s3:::{BUCKET}/") for s in statements(created, "uploader") for r in s["Resource"]
    ), "the uploader may list or read the bucket"


def test_compute_logs_identity_sees_only_compute_logs(created):
    assert set(object_grants(created, "compute-logs")) == {"compute-logs/*"}
    listing = [s for s in statements(created, "compute-logs") if "s3:ListBucket" in s["Action"]]
    assert listing and all(s["Condition"]["StringLike"]["s3:prefix"] == ["compute-logs/*"] for s in listing)


def test_pipelines_stay_out_of_compute_logs(created):
    grants = object_grants(created, "pipelines")
    assert set(grants) == {"incoming/*", "staging/*", "quarantine/*", "lake/*"}
    assert grants["lake/*"] >= {"s3:GetObject", "s3:PutObject"}
    listing = [s for s in statements(created, "pipelines") if "s3:ListBucket" in s["Action"]]
    assert all("compute-logs/*" not in s["Condition"]["StringLike"]["s3:prefix"] for s in listing)
