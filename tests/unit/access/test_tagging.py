"""launched_by is added to every launch, inline or in variables; the rewritten document is
still valid against Dagster's real schema, and a spoofed tag is replaced."""

from __future__ import annotations

import pytest
from dagster_graphql.schema import create_schema
from graphql import parse, validate

from dagster_platform.access.policy import parse_document
from dagster_platform.access.tagging import TAG_KEY, tag_launches

SELECTOR = {"repositoryLocationName": "orders_and_sales", "repositoryName": "r", "jobName": "daily"}
OURS = {"key": TAG_KEY, "value": "lena"}


@pytest.fixture(scope="module")
def schema():
    return create_schema().graphql_schema


def tagged(schema, query: str, variables: dict | None = None) -> tuple[str, dict]:
    result = tag_launches(parse_document(query), variables, "lena")
    assert result is not None
    assert validate(schema, parse(result[0])) == [], result[0]
    return result


def test_variables_form_gets_the_tag_and_loses_a_spoofed_one(schema):
    query = "mutation L($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename } }"
    spoofed = {
        "p": {
            "selector": SELECTOR,
            "executionMetadata": {"tags": [{"key": TAG_KEY, "value": "eve"}, {"key": "team", "value": "x"}]},
        }
    }
    text, variables = tagged(schema, query, spoofed)
    assert variables["p"]["executionMetadata"]["tags"] == [{"key": "team", "value": "x"}, OURS]
    assert "$p" in text


def test_inline_form_keeps_the_rest_of_the_document(schema):
    query = """mutation { launchRun(executionParams: {selector: {repositoryLocationName: "orders_and_sales",
        repositoryName: "r", jobName: "daily"}, runConfigData: {ops: {x: {config: 1}}},
        executionMetadata: {tags: [{key: "team", value: "x"}]}}) { __typename } }"""
    text, _ = tagged(schema, query)
    assert 'tags: [{key: "team", value: "x"}, {key: "launched_by", value: "lena"}]' in text
    assert "runConfigData: {ops: {x: {config: 1}}}" in text


def test_nested_variable_inside_an_inline_value(schema):
    query = """mutation ($tags: [ExecutionTag!]) { launchRun(executionParams: {selector: {repositoryLocationName: "o",
        repositoryName: "r", jobName: "j"}, executionMetadata: {tags: $tags}}) { __typename } }"""
    _, variables = tagged(schema, query, {"tags": [{"key": "a", "value": "b"}]})
    assert variables["tags"] == [{"key": "a", "value": "b"}, OURS]


def test_reexecution_multiple_runs_and_backfills(schema):
    text, _ = tagged(
        schema,
        'mutation { launchRunReexecution(reexecutionParams: {parentRunId: "p", strategy: FROM_FAILURE}) { __typename } }',
    )
    assert 'extraTags: [{key: "launched_by", value: "lena"}]' in text and "strategy: FROM_FAILURE" in text
    many = "mutation ($l: [ExecutionParams!]!) { launchMultipleRuns(executionParamsList: $l) { __typename } }"
    _, variables = tagged(schema, many, {"l": [{"selector": SELECTOR}, {"selector": SELECTOR}]})
    assert all(p["executionMetadata"]["tags"] == [OURS] for p in variables["l"])
    backfill = "mutation ($b: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $b) { __typename } }"
    _, variables = tagged(schema, backfill, {"b": {"partitionNames": ["2026-01-01"]}})
    assert variables["b"]["tags"] == [OURS]


def test_no_launch_means_no_rewrite():
    assert tag_launches(parse_document('mutation { terminateRun(runId: "x") { __typename } }'), {}, "lena") is None
    assert tag_launches(parse_document("{ version }"), {}, "lena") is None
