"""Dagster's Celery executor, wired to the stack's broker (see broker.py).

dagster-celery's ``celery_executor`` takes the broker URL as config. Here the URL holds a
password, so it is not config: this executor reads it from the run worker's environment
when the run starts (``celery_settings()``), the same function the workers use. Only
step retries remain configurable, as in ``celery_executor``.
"""

from dagster import executor, multiple_process_executor_requirements
from dagster._core.execution.retries import RetryMode, get_retries_config
from dagster_celery.executor import CeleryExecutor

from .broker import celery_settings


@executor(
    name="celery",
    config_schema={"retries": get_retries_config()},
    requirements=multiple_process_executor_requirements(),
)
def celery_executor(init_context):
    """Each step is a Celery task on the stack's broker, run by any worker of the `scale` profile."""
    return CeleryExecutor(
        retries=RetryMode.from_config(init_context.executor_config["retries"]),
        **celery_settings(),
    )
