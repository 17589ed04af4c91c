"""The location's resources for the current deployment (``DAGSTER_DEPLOYMENT``, see
dagster_platform/environment.py), built when the definitions load.

Steps run in the run's own process: every run already gets its own container from the
DockerRunLauncher and the asset graphs are short chains, while a subprocess per step
would re-import pandas, pyarrow and Dagster (~8 s per step in a run container).
"""

import dagster as dg
from dagster_platform.environment import resources_for

from dagster_platform.alerts.delivery import alert_webhook


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={**resources_for(), "alert_webhook": alert_webhook()}, executor=dg.in_process_executor
    )
