"""Fault-injection suite (marker ``faults``): the compose stack is hurt on purpose and
each test asserts that it recovers, and how fast.

The ``stack`` fixture is the e2e suite's (tests/e2e/session.py, registered once for the
whole tree from tests/conftest.py), so running both suites in one session brings the
stack up once. Measured recovery times go to the shared TIMINGS summary and to
tests/faults/artifacts/recovery.json (see recovery.py).
"""
