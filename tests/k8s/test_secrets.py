"""No secret value is written in any file under infra/k8s.

Credentials reach the pods only from Kubernetes Secrets, by name; the Secret templates hold
key names with empty values. Checked three ways: structurally in every YAML document
(secret-like keys, variables of secret names, Secret objects), and textually in every file
for the secret values of .env.example (a pasted .env).
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from functools import cache

import pytest
import yaml

from .helpers import K8S_DIR, ROOT, env_example, load_docs, objects, secret_keys

SECRET_KEY_NAME = re.compile(r"(?i)(password|secret_?access_?key|secretkey|token|credential|private_?key)")
FILES = sorted(p for p in K8S_DIR.rglob("*") if p.is_file())
YAML_FILES = [p for p in FILES if p.suffix in (".yaml", ".yml")]


@cache
def _secret_variables() -> frozenset[str]:
    """Variables whose value is a secret: every key of a Secret template, and the
    password/secret variables of .env.example."""
    from_env = {k for k in env_example() if re.search("PASSWORD|SECRET", k)}
    return frozenset(from_env.union(*secret_keys().values()))


def leaked_values(node, path: str = "") -> list[str]:
    """Places in a YAML document where a secret is written as a literal value."""
    found = []
    if isinstance(node, dict):
        if node.get("name") in _secret_variables() and node.get("value") not in (None, ""):
            found.append(f"{path}: {node['name']} has a value")
        for key, value in node.items():
            secret_like = SECRET_KEY_NAME.search(str(key)) or key in _secret_variables()
            if secret_like and isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != "":
                found.append(f"{path}.{key}")
            found += leaked_values(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += leaked_values(item, f"{path}[{i}]")
    return found


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_no_literal_secret_in_yaml(path):
    assert [f for doc in load_docs(path) for f in leaked_values(doc)] == []


def test_secret_templates_hold_names_only():
    secrets = objects("Secret")
    assert secrets, "secrets.template.yaml defines the stack's Secrets"
    for name, secret in secrets.items():
        assert "data" not in secret, f"{name}: base64 `data` would be a value"
        assert secret["stringData"] and set(secret["stringData"].values()) == {""}, name


def test_no_env_example_secret_is_pasted_anywhere():
    values = {
        v for k, v in env_example().items() if re.search("(PASSWORD|SECRET_ACCESS_KEY)$", k) and v
    }  # not DAGSTER_PASSWORD_MIN_LENGTH
    assert values, ".env.example defines placeholder secrets"
    for path in FILES:
        text = path.read_text()
        assert not [v for v in values if v in text], path.name


def test_the_check_finds_literal_secrets():
    leaking = yaml.safe_load("""
        postgresql: {postgresqlPassword: hunter2}
        s3: {secretAccessKey: abc}
        env: [{name: AWS_SECRET_ACCESS_KEY, value: abc}]
        data: {WAREHOUSE_DB_PASSWORD: abc}
        fine: {automountServiceAccountToken: false, secretKeyRef: {name: s, key: postgresql-password}, x: ""}
    """)
    assert leaked_values(leaking) == [
        ".postgresql.postgresqlPassword",
        ".s3.secretAccessKey",
        ".env[0]: AWS_SECRET_ACCESS_KEY has a value",
        ".data.WAREHOUSE_DB_PASSWORD",
    ]


def _readme_recipe() -> str:
    section = (K8S_DIR / "README.md").read_text().split("\n## Secrets\n", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_readme_recipe_names_every_template_secret_and_key():
    recipe = _readme_recipe()
    for name, keys in secret_keys().items():
        assert f"secret generic {name} " in recipe, name
        assert all(key in recipe for key in keys - {"postgresql-password"}), name


def test_readme_recipe_creates_exactly_the_template_secrets_from_env(tmp_path):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed; the recipe was checked by name only")
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    dry_run = 'kubectl() { command kubectl "$@" --dry-run=client -o yaml; echo ---; }\n'
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", dry_run + _readme_recipe()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    created = {doc["metadata"]["name"]: doc["data"] for doc in yaml.safe_load_all(out) if doc}
    assert {name: set(data) for name, data in created.items()} == secret_keys()
    decoded = base64.b64decode(created["dagster-postgresql-secret"]["postgresql-password"]).decode()
    assert decoded == env_example()["DAGSTER_PG_PASSWORD"]
