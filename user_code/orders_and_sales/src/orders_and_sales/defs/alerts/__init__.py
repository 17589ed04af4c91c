"""Alerts: failed runs, failed non-blocking asset checks and stale assets, posted to a
webhook by sensors.

  definitions.py  their Definitions (merged in user_code/definitions.py)
  payload.py      what an alert says (JSON, Slack)     redaction.py  what it may not say
  delivery.py     the webhook resource, retries        state.py      the cursor: dedupe, pending
  sensors.py      run_failure_alerts, asset_alerts
"""
