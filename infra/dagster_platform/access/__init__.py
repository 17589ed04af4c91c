"""Personal accounts, roles and an audit trail for the Dagster UI and GraphQL API (issue 23).

An ASGI gateway (:mod:`.app`) authenticates every request (session cookie, Bearer token or
basic auth), checks GraphQL mutations against the caller's role by parsing the document
(:mod:`.policy`), tags launches with the caller's name (:mod:`.tagging`), writes an
append-only audit trail (:mod:`.audit`) and forwards to an upstream webserver: the full one
for launchers and admins, a ``--read-only`` one for viewers (:mod:`.proxy`). State lives in
Postgres (:mod:`.store`), so accounts take effect at once and survive restarts.
Nothing here touches Dagster's internals: the webserver is reached over HTTP only.
"""
