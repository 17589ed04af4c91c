"""One Dagster webserver's GraphQL API as the operator scripts reach it: the stack's UI at
http://127.0.0.1:3000 (the login in front of it) with DAGSTER_UI_USER / DAGSTER_UI_PASSWORD
from .env, or any other webserver URL. Shared by tooling.migrate_sensors and
tooling.maintenance; every failure is a ``WebserverError`` whose message says what to do.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from tooling.stack import UI, Stack


class WebserverError(RuntimeError):
    """The webserver could not be reached, refused the request, or answered with an error."""


class Webserver(Stack):
    """The stack's GraphQL client (tooling.stack) aimed at one webserver URL."""

    url: str = UI

    @classmethod
    def at(cls, url: str, user: str = "", password: str = "") -> "Webserver":
        server = cls(env={"DAGSTER_UI_USER": user, "DAGSTER_UI_PASSWORD": password}, env_args=[], process_env={})
        server.url = url.rstrip("/")
        return server

    @classmethod
    def for_scripts(cls, url: str = UI) -> "Webserver":
        """``url`` with the credentials scripts use: DAGSTER_UI_USER / DAGSTER_UI_PASSWORD of .env."""
        env = Stack.from_env().env
        return cls.at(url, env.get("DAGSTER_UI_USER", ""), env.get("DAGSTER_UI_PASSWORD", ""))

    def ui_request(self, path, data=None, headers=None, method=None) -> urllib.request.Request:
        return urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": self.auth_header(), "Origin": self.url, **(headers or {})},
        )

    def query(self, query: str, variables: dict | None = None) -> dict:
        try:
            return self.graphql(query, variables, timeout=30)
        except AssertionError as error:
            if "HTTP 401" in str(error):
                raise WebserverError(
                    f"the webserver at {self.url} refused the credentials: check DAGSTER_UI_USER / "
                    f"DAGSTER_UI_PASSWORD in .env ({str(error)[:200]})"
                ) from error
            if "HTTP 403" in str(error):
                raise WebserverError(
                    f"the webserver at {self.url} refused the request ({str(error)[:300]}): the account "
                    "in DAGSTER_UI_USER may lack the role this needs"
                ) from error
            raise WebserverError(f"GraphQL request failed at {self.url}: {error}") from error
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise WebserverError(
                f"cannot reach the webserver at {self.url} ({error}): is the stack up (`make up`, `make ps`)?"
            ) from error

    def mutate(self, mutation: str, variables: dict, field: str, ok: tuple[str, ...]) -> dict:
        """Run a mutation; its result, or a WebserverError when its type is not one of ``ok``."""
        result = self.query(mutation, variables)[field]
        if result["__typename"] not in ok:
            raise WebserverError(f"{field} failed: {result}")
        return result
