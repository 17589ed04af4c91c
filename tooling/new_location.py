"""Scaffold a code location: ``make new-location NAME=inventory``.

Creates user_code/<name>/ from infra/location-template/ (a dg project: pyproject.toml with
[tool.dg], src/<name>/definitions.py loading defs/, one example asset and its test), and
registers it with the platform: a project in dg.toml, a gRPC server in workspace.yaml and
workspace.scale.yaml, and a code-server service ``<name>-code`` in docker-compose.yml,
built from the Dockerfile's ``location`` stage with LOCATION=<name>. It edits no file of
another location, and refuses a name that exists or is not a Python identifier.

Every platform file is edited by inserting a block before a marker line, so the result is
plain text a person can read and review (``git diff``).
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "location-template"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
RESERVED = {"platform", "test", "tests", "dagster", "user_code"}
SERVICES_END = "  # --- profile `scale`"

SERVICE = """\
  $service:
    build:
      context: .
      dockerfile: Dockerfile
      target: location
      args: {LOCATION: $location}
    image: dagster-platform/$location:$${IMAGE_TAG:-local}
    restart: unless-stopped
    init: true
    <<: *read-only
    # Dagster's storage only. Give it the secrets it needs by name, e.g. `<<: *pipeline-env`.
    environment:
      <<: *instance-env
      DAGSTER_CURRENT_IMAGE: dagster-platform/$location:$${IMAGE_TAG:-local}
    networks: [dagster]
    depends_on:
      init:
        condition: service_completed_successfully
    healthcheck: *code-server-health

"""

WORKSPACE_ENTRY = """\
  - grpc_server:
      host: $service
      port: 4000
      location_name: $location
"""


class ScaffoldError(Exception):
    """A name or a platform file the scaffold cannot work with; the message says what to do."""


def check_name(name: str, root: Path) -> None:
    if not NAME.match(name) or keyword.iskeyword(name) or name in RESERVED or name in sys.stdlib_module_names:
        raise ScaffoldError(
            f"NAME={name!r}: use 2-31 lowercase letters, digits and underscores, starting with a letter, "
            f"that is no Python keyword, standard-library module or one of {sorted(RESERVED)}."
        )
    if (root / "user_code" / name).exists():
        raise ScaffoldError(f"user_code/{name} exists: choose another NAME (nothing was changed).")


def render(text: str, name: str) -> str:
    return Template(text).substitute(
        location=name, package=name, distribution=name.replace("_", "-"), service=service_name(name)
    )


def service_name(name: str) -> str:
    return f"{name.replace('_', '-')}-code"


def insert_before(path: Path, marker: str, block: str) -> str:
    """``path``'s text with ``block`` inserted before the line starting with ``marker``."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith(marker):
            return "".join(lines[:index]) + block + "".join(lines[index:])
    raise ScaffoldError(f"{path.relative_to(path.parents[0])}: no line starting with {marker!r} to insert before.")


def scaffold(name: str, root: Path = ROOT) -> list[Path]:
    """Create the location and register it; returns the files created or changed. Every
    edit is computed before any file is written, so a failure changes nothing."""
    check_name(name, root)
    target = root / "user_code" / name
    files: dict[Path, str] = {}
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE).as_posix().removesuffix(".tmpl").replace("__package__", name)
        files[target / relative] = render(source.read_text(), name)
    compose = root / "docker-compose.yml"
    files[compose] = insert_before(compose, SERVICES_END, render(SERVICE, name))
    for workspace in ("workspace.yaml", "workspace.scale.yaml"):
        path = root / workspace
        files[path] = path.read_text().rstrip("\n") + "\n" + render(WORKSPACE_ENTRY, name)
    dg_toml = root / "dg.toml"
    files[dg_toml] = dg_toml.read_text().rstrip("\n") + f'\n\n[[workspace.projects]]\npath = "user_code/{name}"\n'
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make new-location NAME=<name>", description=__doc__.split("\n")[0])
    parser.add_argument("name")
    args = parser.parse_args(argv)
    try:
        changed = scaffold(args.name)
    except ScaffoldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"  wrote {path.relative_to(ROOT)}")
    print(
        f"\nNext: write your assets in user_code/{args.name}/src/{args.name}/defs/, then\n"
        f"  make venv && .venv/bin/python -m pytest user_code/{args.name}   # its tests\n"
        f"  docker compose up -d --build --wait   # builds {service_name(args.name)}; the webserver and\n"
        "                                        # daemon restart once to load the new workspace\n"
        f"  make deploy LOCATION={args.name}       # every later change: this location alone"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
