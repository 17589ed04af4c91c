"""The code location `platform`: what watches the whole instance, kept apart from the
pipelines it watches (a team's broken deploy cannot silence it).

definitions.py              the location's Definitions (defs/ folder)
defs/alerts/run_failures.py run_failure_alerts: every location's failed runs to the webhook
defs/resources.py           the alert webhook, its only resource
"""
