"""The one Definitions object the code server loads: every domain plus the resources
of the current deployment (see user_code/environment.py).

Every run already gets its own container from the DockerRunLauncher, and our asset
graphs are short chains, so steps run in the run's own process: a subprocess per step
re-imports pandas, pyarrow and Dagster, which cost ~8 s per step in a run container.
The one exception is the scale domain's `celery_fanout` job, whose steps are Celery tasks
spread over the workers of the `scale` compose profile (user_code/scale).
"""

from dagster import Definitions, in_process_executor

from .alerts import definitions as alerts
from .customers import definitions as customers
from .orders import definitions as orders
from .sales import definitions as sales
from .scale import definitions as scale
from .environment import resources_for

defs = Definitions.merge(
    orders.defs,
    customers.defs,
    sales.defs,
    scale.defs,
    alerts.defs,
    Definitions(resources=resources_for(), executor=in_process_executor),
)
