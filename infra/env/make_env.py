"""Write .env from .env.example with a fresh random value for every secret (`make env`).

A secret is any line whose value starts with ``change-me`` (the published placeholders).
Each gets 40 random letters and digits (~238 bits). Not ``token_urlsafe``: one in 64 of its
values starts with "-", which command-line tools read as an option (``mc admin user add``
then fails, and ``docker compose up`` with it). The file is created with
mode 0600 and never overwritten. An existing .env keeps every line it has; a setting that
.env.example has and it lacks (one added by a newer version, such as ACCESS_DB_PASSWORD) is
appended, a secret with a fresh random value, so an upgrade needs no hand edit.
Values are never printed.

    python3 infra/env/make_env.py [.env.example] [.env]
"""

from __future__ import annotations

import os
import re
import secrets
import string
import sys

PLACEHOLDER = re.compile(r"^([A-Z][A-Z0-9_]*)=change-me\S*$")
ALPHABET = string.ascii_letters + string.digits


def new_secret() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(40))


def render(example: str) -> tuple[str, list[str]]:
    """The .env text and the names of the secrets it generated."""
    lines, names = [], []
    for line in example.splitlines():
        match = PLACEHOLDER.match(line)
        if match:
            names.append(match.group(1))
            line = f"{match.group(1)}={new_secret()}"
        lines.append(line)
    return "\n".join(lines) + "\n", names


SETTING = re.compile(r"^([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def add_missing(env_path: str, example: str) -> int:
    """Append the settings of ``example`` that the existing .env lacks; existing lines stay."""
    with open(env_path) as handle:
        present = set(SETTING.findall(handle.read()))
    missing = [line for line in example.splitlines() if (m := SETTING.match(line)) and m.group(1) not in present]
    if not missing:
        print(f"{env_path} exists and has every setting of .env.example: left as it is")
        return 0
    text, names = render("\n".join(missing))
    with open(env_path, "a") as handle:
        handle.write("\n# Added by `make env`: settings that .env.example gained since this file was written.\n")
        handle.write(text)
    added = [m.group(1) for line in missing if (m := SETTING.match(line))]
    print(
        f"{env_path} exists: added {len(added)} new settings ({', '.join(added)}); random values for {names or 'none'}"
    )
    return 0


def main(example_path: str = ".env.example", env_path: str = ".env") -> int:
    with open(example_path) as handle:
        example = handle.read()
    if os.path.exists(env_path):
        return add_missing(env_path, example)
    text, names = render(example)
    # O_EXCL: never clobber a file that appeared meanwhile; 0600 from the first byte.
    fd = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    print(f"wrote {env_path} (mode 0600) with random values for {len(names)} secrets: {', '.join(names)}")
    print("UI login: DAGSTER_UI_USER / DAGSTER_UI_PASSWORD in that file")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
