"""Alert delivery shared by every location's alert sensors.

tick.py       one sensor tick: collect, queue in the cursor, deliver within a budget
payload.py    what an alert says (JSON, Slack)     redaction.py  what it may not say
delivery.py   the webhook resource, retries        state.py      the cursor: dedupe, pending
"""
