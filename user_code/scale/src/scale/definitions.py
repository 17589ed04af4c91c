"""The code location `scale`, the Celery demo of the compose profile `scale`: every module
under defs/ is loaded by Dagster's ``load_from_defs_folder``; resources come from
defs/resources.py. Served only where that profile runs, so its assets appear in no other
deployment's UI.

The function runs when a code server, ``dg`` or a test loads the location, never at
import, and it reads settings but opens no connection and writes no file.
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
