"""Fixtures for the end-to-end tests: the real compose stack, driven as a user would.

The session fixture ``stack`` and the timings summary live in session.py, registered
once for the whole test tree from tests/conftest.py, so the e2e and the fault-injection
suites (tests/faults/) share ONE stack bring-up per session. Test modules import the
names below from here as before.
"""

from __future__ import annotations

from .session import TIMINGS, e2e_required  # noqa: F401
from tooling.stack import (  # noqa: F401
    ARTIFACTS,
    LOCATION,
    PROJECT,
    ROOT,
    RUN_LABEL,
    UI,
    UP_TIMEOUT,
    Stack,
    docker_problem,
    read_env_file,
)
