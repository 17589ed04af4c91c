"""The location's resources for the current deployment (``DAGSTER_DEPLOYMENT``, see
dagster_platform/environment.py), built when the definitions load. The job's steps are
Celery tasks (defs/jobs.py); their outputs go through the object store's IO manager, so
the workers share no filesystem."""

import dagster as dg
from dagster_platform.environment import resources_for


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=resources_for())
