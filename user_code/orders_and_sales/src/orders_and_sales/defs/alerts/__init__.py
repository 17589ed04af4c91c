"""This location's asset alerts (asset_alerts.py): failed non-blocking checks and stale
assets, delivered through dagster_platform.alerts. Failed runs are the `platform`
location's alerts (user_code/platform)."""
