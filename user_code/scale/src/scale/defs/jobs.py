"""celery_fanout: the scale group with every step sent to the Celery workers."""

from dagster import AssetSelection, define_asset_job

from .assets import GROUP
from ..executor import celery_executor

# Needs the `scale` compose profile (broker + workers): without it the run fails at its
# first step, naming the broker it could not reach. The same assets materialized from the
# asset graph run in-process like every other asset.
celery_fanout = define_asset_job(
    "celery_fanout",
    selection=AssetSelection.groups(GROUP),
    executor_def=celery_executor,
    description="scale_part_* (independent) -> scale_total, one Celery task per step (scale profile).",
)
