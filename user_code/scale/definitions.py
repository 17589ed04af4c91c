"""The scale domain's Definitions; merged in user_code/definitions.py."""

from dagster import Definitions

from .assets import SCALE_PARTS, scale_total
from .jobs import celery_fanout

defs = Definitions(assets=[*SCALE_PARTS, scale_total], jobs=[celery_fanout])
