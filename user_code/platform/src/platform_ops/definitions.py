"""The code location `platform`: every module under defs/ is loaded by Dagster's
``load_from_defs_folder``; its one resource comes from defs/resources.py.

The function runs when a code server, ``dg`` or a test loads the location, never at
import, and it reads settings but opens no connection and writes no file.
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
