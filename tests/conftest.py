"""Options shared by the test suites (the unit tests have their own tests/unit/conftest.py).

The compose ``stack`` session fixture is registered here, once for the whole tree, so the
e2e suite and the fault-injection suite (tests/faults/) share one stack bring-up.
"""

import os

# The tests assert the documented defaults of the deployment's knobs; a shell that has
# sourced .env (or exported one of them) must not change what the definitions are built
# with. The stack itself reads .env through compose, not this process's environment.
for _knob in (
    "DAGSTER_DEPLOYMENT",
    "SCHEDULE_TIMEZONE",
    "ORDERS_SENSOR_INTERVAL_SECONDS",
    "ORDERS_MAX_FILE_MB",
    "ORDERS_SUMMARY_FRESHNESS_MINUTES",
):
    os.environ.pop(_knob, None)

# A plugin module, not a conftest: only a top-level conftest may name plugins, and a
# fixture defined in two conftests would be two fixtures (two bring-ups per session).
pytest_plugins = ["e2e.session"]


def pytest_addoption(parser):
    group = parser.getgroup("e2e", "end-to-end tests against the Docker compose stack")
    group.addoption(
        "--require-e2e",
        action="store_true",
        default=False,
        help="fail (instead of skip) the e2e tests when no Docker engine is available; "
        "also enabled by CI=true or E2E_REQUIRED=1",
    )
    group.addoption(
        "--keep-stack",
        action="store_true",
        default=False,
        help="leave the compose stack running after the e2e tests (default: docker compose down -v); "
        "also enabled by E2E_KEEP_STACK=1",
    )
