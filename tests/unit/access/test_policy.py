"""The role a GraphQL document needs is read from the parsed document, against Dagster's
real schema: default deny, the launcher list, location scope, no trust in operationName."""

from __future__ import annotations

import pytest
from dagster_graphql.schema import create_schema

from dagster_platform.access.accounts import Account
from dagster_platform.access.policy import LAUNCHER_FIELDS, PolicyError, decide, parse_document

VIEWER = Account(1, "vera", "viewer", None, "")
LAUNCHER = Account(2, "lena", "launcher", None, "")
SCOPED = Account(3, "bob", "launcher", ("orders_and_sales",), "")
ADMIN = Account(4, "ada", "admin", None, "")

LAUNCH = """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename } }"""


def launch_params(location: str) -> dict:
    return {"params": {"selector": {"repositoryLocationName": location, "repositoryName": "r", "jobName": "daily"}}}


@pytest.fixture(scope="module")
def mutation_fields() -> list[str]:
    return sorted(create_schema().graphql_schema.mutation_type.fields)


def judge(query: str, account: Account, variables: dict | None = None):
    return decide(parse_document(query), variables, account)


def test_the_launcher_list_names_real_mutations(mutation_fields):
    assert LAUNCHER_FIELDS <= set(mutation_fields), "a launcher mutation was renamed in dagster-graphql"


def test_viewer_is_refused_every_mutation_and_launcher_all_but_its_list(mutation_fields):
    for name in mutation_fields:
        query = f"mutation {{ {name} {{ __typename }} }}"
        assert not judge(query, VIEWER).allowed, name
        launcher = judge(query, LAUNCHER)
        assert launcher.allowed == (name in LAUNCHER_FIELDS), name
        assert launcher.needed == ("launcher" if name in LAUNCHER_FIELDS else "admin")
        assert judge(query, ADMIN).allowed


def test_an_unknown_mutation_is_admin_only():
    decision = judge("mutation { mutationDagsterAddsNextYear(x: 1) { ok } }", LAUNCHER)
    assert not decision.allowed and decision.needed == "admin"
    assert "needs the admin role" in decision.message and "'lena' is a launcher" in decision.message


def test_queries_and_subscriptions_need_only_viewer():
    assert judge("{ runsOrError { __typename } }", VIEWER).allowed
    assert judge('subscription S { pipelineRunLogs(runId: "x") { __typename } }', VIEWER).allowed


def test_operation_name_aliases_and_fragments_do_not_hide_a_mutation():
    both = "query Harmless { version } mutation Evil { innocent: wipeAssets(assetPartitionRanges: []) { __typename } }"
    assert not judge(both, LAUNCHER).allowed  # whatever operationName the client names
    fragment = 'mutation { ...F } fragment F on Mutation { ... on Mutation { stopSensor(id: "s") { __typename } } }'
    decision = judge(fragment, LAUNCHER)
    assert not decision.allowed and decision.fields == ["stopSensor"]


def test_unparseable_documents_are_refused():
    for query in ("mutation {", "", None, 42, "mutation { ...Missing }"):
        with pytest.raises(PolicyError):
            judge(query, ADMIN)  # type: ignore[arg-type]


def test_scoped_launcher_in_and_out_of_its_locations():
    assert judge(LAUNCH, SCOPED, launch_params("orders_and_sales")).allowed
    refused = judge(LAUNCH, SCOPED, launch_params("platform"))
    assert not refused.allowed and "may not launch in platform" in refused.message
    assert refused.locations == ["platform"] and refused.targets["jobs"] == ["daily"]
    inline = 'mutation { launchRun(executionParams: {selector: {repositoryLocationName: "platform", repositoryName: "r", jobName: "j"}}) { __typename } }'
    assert not judge(inline, SCOPED).allowed and judge(inline, LAUNCHER).allowed
    backfill = """mutation ($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename } }"""
    selector = {
        "partitionSetName": "daily",
        "repositorySelector": {"repositoryName": "r", "repositoryLocationName": "orders_and_sales"},
    }
    assert judge(backfill, SCOPED, {"p": {"selector": selector, "partitionNames": ["2026-01-01"]}}).allowed
    many = "mutation ($l: [ExecutionParams!]!) { launchMultipleRuns(executionParamsList: $l) { __typename } }"
    mixed = [launch_params("orders_and_sales")["params"], launch_params("platform")["params"]]
    assert not judge(many, SCOPED, {"l": mixed}).allowed


def test_scoped_launcher_is_refused_when_the_location_cannot_be_told():
    for query in (
        'mutation { terminateRun(runId: "abc") { __typename } }',
        'mutation { launchRunReexecution(reexecutionParams: {parentRunId: "abc", strategy: ALL_STEPS}) { __typename } }',
        "mutation ($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename } }",
    ):
        decision = judge(query, SCOPED, {"p": {"assetSelection": [{"path": ["orders"]}]}})
        assert not decision.allowed and "cannot tell which code location" in decision.message, query
        assert judge(query, LAUNCHER, {"p": {}}).allowed


def test_variable_defaults_count_like_values():
    query = """mutation ($p: ExecutionParams = {selector: {repositoryLocationName: "platform", repositoryName: "r", jobName: "j"}}) { launchRun(executionParams: $p) { __typename } }"""
    assert not judge(query, SCOPED).allowed
