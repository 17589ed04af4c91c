"""The code location `orders_and_sales`: every module under defs/ (one folder per domain:
orders, sales, customers, alerts) is loaded by Dagster's ``load_from_defs_folder``, so a
new domain is a new folder and nothing else changes. Resources and the executor come
from defs/resources.py.

The function runs when a code server, ``dg`` or a test loads the location, never at
import, and it reads settings but opens no connection and writes no file.
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
