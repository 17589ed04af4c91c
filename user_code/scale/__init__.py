"""The scale domain: a fan-out job run by Celery workers (compose profile `scale`).

definitions.py  its Definitions (merged in user_code/definitions.py)
assets.py       the fan-out parts and scale_total      jobs.py    celery_fanout
executor.py     the Celery executor                    worker.py  the Celery app the workers run
broker.py       the broker's settings
"""
