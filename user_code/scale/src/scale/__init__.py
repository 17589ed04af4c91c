"""The code location `scale`: a fan-out job run by Celery workers (compose profile `scale`).

definitions.py   the location's Definitions (defs/ folder)
defs/assets.py   the fan-out parts and scale_total     defs/jobs.py  celery_fanout
executor.py      the Celery executor                   worker.py     the Celery app the workers run
broker.py        the broker's settings
"""
