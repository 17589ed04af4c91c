"""The alert webhook (ALERT_WEBHOOK_URL, an ``EnvVar``), built when the definitions load.
The location reads the instance (run failures, their events) through Dagster's own
storage settings, so it holds no warehouse, bucket or pipeline credentials."""

import dagster as dg
from dagster_platform.alerts.delivery import alert_webhook


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"alert_webhook": alert_webhook()})
