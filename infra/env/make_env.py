"""Write .env from .env.example with a fresh random value for every secret (`make env`).

A secret is any line whose value starts with ``change-me`` (the published placeholders).
Each gets 40 random letters and digits (~238 bits). Not ``token_urlsafe``: one in 64 of its
values starts with "-", which command-line tools read as an option (``mc admin user add``
then fails, and ``docker compose up`` with it). The file is created with
mode 0600 and never overwritten: an existing .env is left alone (exit 0, with a note).
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


def main(example_path: str = ".env.example", env_path: str = ".env") -> int:
    if os.path.exists(env_path):
        print(f"{env_path} exists: left as it is (move it away to generate a new one)")
        return 0
    with open(example_path) as handle:
        text, names = render(handle.read())
    # O_EXCL: never clobber a file that appeared meanwhile; 0600 from the first byte.
    fd = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    print(f"wrote {env_path} (mode 0600) with random values for {len(names)} secrets: {', '.join(names)}")
    print("UI login: DAGSTER_UI_USER / DAGSTER_UI_PASSWORD in that file")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
