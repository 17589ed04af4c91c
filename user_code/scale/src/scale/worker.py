"""The Celery app of the workers: ``celery -A scale.worker worker -Q dagster``.

Built from the same settings as the executor (broker.py). It registers dagster-celery's
``execute_plan`` task, which loads the run's job from this image's code
(``orders_and_sales.definitions``), runs the one step it was sent against the Dagster instance
(Postgres, from dagster.yaml) and stores its outputs through the IO manager (S3/MinIO):
a worker needs no filesystem shared with anyone.
"""

from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from .broker import celery_settings

app = make_app(CeleryExecutor.for_cli(**celery_settings()).app_args())
execute_plan = create_task(app)
