"""tooling/pins.py: which pins are behind, and which patch the Dagster family can move to
together (its libraries reach the index after the core)."""

from __future__ import annotations

import re

from tooling.pins import CONSTRAINTS, behind, lockstep_patch, pins, report

PINNED = pins("# a comment\ndagster==1.13.27\ndagster-postgres==0.29.27\ndagster-webserver==1.13.27\nPyYAML==6.0.3\n")


def test_pins_reads_only_exact_pins_with_normalised_names():
    assert PINNED == {
        "dagster": "1.13.27",
        "dagster-postgres": "0.29.27",
        "dagster-webserver": "1.13.27",
        "pyyaml": "6.0.3",
    }
    assert pins(CONSTRAINTS.read_text())["dagster"].startswith("1.")


def test_behind_lists_pinned_packages_only():
    outdated = [
        {"name": "PyYAML", "version": "6.0.3", "latest_version": "6.1"},
        {"name": "pip", "version": "23.2.1", "latest_version": "26.3"},
    ]
    assert behind(PINNED, outdated) == [("pyyaml", "6.0.3", "6.1")]


def test_the_family_moves_only_as_far_as_its_slowest_member():
    assert lockstep_patch(PINNED, {"dagster": "1.13.29", "dagster-webserver": "1.13.28"}) == "1.13.27"
    assert (
        lockstep_patch(PINNED, {"dagster": "1.13.29", "dagster-webserver": "1.13.29", "dagster-postgres": "0.29.28"})
        == "1.13.28"
    )


def test_report_names_each_pin_and_the_family_patch():
    outdated = [
        {"name": "dagster", "version": "1.13.27", "latest_version": "1.13.29"},
        {"name": "dagster-webserver", "version": "1.13.27", "latest_version": "1.13.29"},
        {"name": "dagster-postgres", "version": "0.29.27", "latest_version": "0.29.28"},
    ]
    text = report(PINNED, outdated)
    assert "3 pins behind" in text and re.search(r"^  dagster +1\.13\.27 -> 1\.13\.29$", text, re.M)
    assert "every member has reached 1.13.28" in text
    assert "not every member" in report(PINNED, outdated[:1])
    assert report(PINNED, []) == "every pin of requirements/constraints.txt is its newest release"
