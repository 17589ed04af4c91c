"""The deployment's variables are declared once (infra/dagster_platform/variables.py); every file that
names them must agree with that declaration, so drift fails here instead of in a deployment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from dotenv import dotenv_values

from dagster_platform.variables import BY_NAME, VARIABLES, markdown_table

ROOT = Path(__file__).resolve().parents[2]
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
COMPOSE_REFERENCE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:(:?-)([^}]*)|:?\?[^}]*)?\}")


def test_env_example_lists_every_setting_with_its_default():
    listed = dotenv_values(ROOT / ".env.example")
    assert set(listed) == {v.name for v in VARIABLES if v.example}
    assert {name: value or "" for name, value in listed.items()} == {v.name: v.default for v in VARIABLES if v.example}
    text = (ROOT / ".env.example").read_text()
    for v in VARIABLES:
        if not v.example:
            assert f"# {v.name}={v.default}\n" in text, f"{v.name} is not mentioned (commented out) in .env.example"


def test_secrets_are_exactly_the_placeholders_make_env_replaces():
    assert {v.name for v in VARIABLES if v.secret} == {v.name for v in VARIABLES if v.default.startswith("change-me")}


def test_compose_names_only_declared_variables_with_the_declared_defaults():
    text = (ROOT / "docker-compose.yml").read_text()
    references = COMPOSE_REFERENCE.findall(text)
    assert references, "no ${...} reference found: the pattern no longer matches docker-compose.yml"
    undeclared = sorted({name for name, _, _ in references} - set(BY_NAME))
    assert not undeclared, f"docker-compose.yml uses undeclared variables: {undeclared}"
    for name, operator, value in references:
        if operator and BY_NAME[name].secret:  # at most empty: the service then refuses to start
            assert value == "", f"docker-compose.yml gives the secret {name} a default value"
        elif operator:
            assert value == BY_NAME[name].default, (
                f"docker-compose.yml: ${{{name}{operator}{value}}}, declared default {BY_NAME[name].default!r}"
            )


def test_dagster_yaml_forwards_and_reads_only_declared_variables():
    text = (ROOT / "dagster.yaml").read_text()
    instance = yaml.safe_load(text)
    forwarded = instance["run_launcher"]["config"]["env_vars"]
    assert len(forwarded) == len(set(forwarded)), "a variable is forwarded twice"
    read = re.findall(r"\{env: ([A-Z][A-Z0-9_]*)\}", text)
    assert read, "no {env: ...} found: the pattern no longer matches dagster.yaml"
    undeclared = sorted(set(forwarded + read) - set(BY_NAME))
    assert not undeclared, f"dagster.yaml names undeclared variables: {undeclared}"


def test_configuration_page_table_is_the_declared_one():
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert markdown_table() in page, (
        "docs/configuration.md's variable table differs: paste `python -m dagster_platform.variables`"
    )


def test_numeric_settings_fall_back_to_the_one_default_and_name_bad_values(monkeypatch):
    from dagster_platform.variables import ConfigurationError, numeric_setting

    monkeypatch.delenv("CELERY_VISIBILITY_TIMEOUT_SECONDS", raising=False)
    assert numeric_setting("CELERY_VISIBILITY_TIMEOUT_SECONDS", int, 1) == int(
        BY_NAME["CELERY_VISIBILITY_TIMEOUT_SECONDS"].default
    )
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT_SECONDS", "2.5")
    with pytest.raises(ConfigurationError, match=r"CELERY_VISIBILITY_TIMEOUT_SECONDS='2.5' is not a whole number"):
        numeric_setting("CELERY_VISIBILITY_TIMEOUT_SECONDS", int, 1)
    assert numeric_setting("CELERY_VISIBILITY_TIMEOUT_SECONDS", float, 1) == 2.5
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT_SECONDS", "0")
    with pytest.raises(ConfigurationError, match=r"'0' must be at least 1; set it in .env \(default 300\)"):
        numeric_setting("CELERY_VISIBILITY_TIMEOUT_SECONDS", int, 1)
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT_SECONDS", "20")
    with pytest.raises(ConfigurationError, match="must be between 1 and 15"):
        numeric_setting("CELERY_VISIBILITY_TIMEOUT_SECONDS", int, 1, 15)
