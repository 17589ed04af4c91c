"""The scale domain: a fan-out job run by Celery workers (compose profile `scale`).

Its Definitions are merged in user_code/definitions.py.
"""

from dagster import Definitions

from .assets import SCALE_PARTS, scale_total
from .jobs import celery_fanout

defs = Definitions(assets=[*SCALE_PARTS, scale_total], jobs=[celery_fanout])
