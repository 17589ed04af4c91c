"""`make backup`, `make reset`, `make restore`: run history, both databases (schema
`orders` included, and the accounts of schema `platform_access`) and the lake's objects all
come back, and ingestion carries on.
"""

from __future__ import annotations


import pytest

from tooling.stack import Stack

from .harm import Files, ledger_files, require
from .recovery import Stopwatch, record
from .stack_state import back_up, objects, run_ids

pytestmark = pytest.mark.faults


def test_i_backup_reset_restore(stack: Stack, tmp_path):
    back_up(stack)
    files = Files(stack, "backup")
    files.upload(count=2)
    files.wait_landed(120)
    runs, stored = run_ids(stack), objects(stack)
    stack.make("user", "NAME=backed-up-viewer", "ROLE=viewer")  # its password is generated
    backup = tmp_path / "backup"
    stack.make("backup", f"BACKUP={backup}")
    stack.make("reset")
    clock = Stopwatch()
    stack.make("restore", f"BACKUP={backup}")
    back_up(stack)
    seconds = clock()
    lost_runs, lost_objects = runs - run_ids(stack), stored - objects(stack)
    require(not lost_runs, f"restore lost {len(lost_runs)} of {len(runs)} runs, e.g. {sorted(lost_runs)[:3]}")
    require(
        not lost_objects, f"restore lost {len(lost_objects)} of {len(stored)} objects, e.g. {sorted(lost_objects)[:3]}"
    )
    require("backed-up-viewer\tviewer" in stack.make("users").stdout, "restore lost an account")
    loaded = ledger_files(stack, files.tag)
    require(loaded == 2, f"the orders ledger has {loaded} of the 2 files loaded before the backup")
    files.upload(count=1)
    files.wait_landed(120)
    record(
        "i_backup_reset_restore",
        seconds,
        600,
        "make restore after make reset -> stack back with all state",
        runs=len(runs),
        objects=len(stored),
    )
