"""Which role a GraphQL document needs, decided from the parsed document itself.

Every operation in the document counts (the server picks one by ``operationName``, which the
client controls, so the strictest one decides). Queries and subscriptions need ``viewer``;
mutations need ``admin`` unless their root field is on the launcher list below: default
deny, so a mutation a later Dagster adds is admin-only until someone classifies it here.
Root fields are collected through fragments and aliases, which cannot hide a field's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from graphql.utilities import value_from_ast_untyped

from dagster_platform.access.accounts import Account

RANK = {"viewer": 0, "launcher": 1, "admin": 2}

# Dagster 1.13's Mutation fields (dagster_graphql/schema/roots/mutation.py) a launcher may use.
LAUNCH_FIELDS = frozenset(
    {
        "launchRun",
        "launchPipelineExecution",
        "launchMultipleRuns",
        "launchRunReexecution",
        "launchPipelineReexecution",
        "launchPartitionBackfill",
    }
)
TERMINATE_FIELDS = frozenset({"terminateRun", "terminatePipelineExecution", "terminateRuns"})
LAUNCHER_FIELDS = LAUNCH_FIELDS | TERMINATE_FIELDS

# Argument keys whose values name what a mutation acts on, for the audit trail.
_TARGET_KEYS = {
    "jobName": "jobs",
    "pipelineName": "jobs",
    "runId": "runs",
    "runIds": "runs",
    "parentRunId": "runs",
    "partitionNames": "partitions",
    "partitionName": "partitions",
    "sensorName": "sensors",
    "scheduleName": "schedules",
    "partitionSetName": "partition_sets",
    "repositoryLocationName": "locations",
    "backfillId": "backfills",
}


class PolicyError(ValueError):
    """The request is not a GraphQL document the gateway can judge (400)."""


@dataclass
class Decision:
    allowed: bool
    needed: str
    """The least role that may send this document."""
    fields: list[str] = field(default_factory=list)
    """The mutation root fields, in order (empty for queries and subscriptions)."""
    locations: list[str] | None = None
    """The code locations the mutations name; None when some cannot be determined."""
    targets: dict[str, list[Any]] = field(default_factory=dict)
    message: str = ""

    @property
    def is_mutation(self) -> bool:
        return bool(self.fields)


def parse_document(query: object) -> DocumentNode:
    if not isinstance(query, str) or not query.strip():
        raise PolicyError("no GraphQL query in the request")
    try:
        return parse(query, no_location=True)
    except GraphQLError as error:
        raise PolicyError(f"GraphQL syntax error: {error.message}") from None


def operation_variables(operation: OperationDefinitionNode, variables: dict | None) -> dict[str, Any]:
    """The variables as the server will see them: the defaults of the definitions, then the given."""
    values = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    return {**values, **(variables or {})}


def root_fields(document: DocumentNode, operation: OperationDefinitionNode) -> Iterator[FieldNode]:
    """The operation's root fields, through fragment spreads and inline fragments."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    seen: set[str] = set()

    def walk(selections: SelectionSetNode) -> Iterator[FieldNode]:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    seen.add(name)
                    yield from walk(fragments[name].selection_set)
                elif name not in fragments:
                    raise PolicyError(f"unknown fragment {name!r}")

    yield from walk(operation.selection_set)


def argument(node: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for arg in node.arguments or ():
        if arg.name.value == name:
            return value_from_ast_untyped(arg.value, variables)
    return None


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def field_locations(node: FieldNode, variables: dict[str, Any]) -> set[str] | None:
    """The code locations a launcher mutation acts on, from its arguments; None when they
    cannot be told from the request (terminations and re-executions name only run ids)."""
    name = node.name.value
    if name in ("launchRun", "launchPipelineExecution"):
        params = [argument(node, "executionParams", variables)]
    elif name == "launchMultipleRuns":
        params = argument(node, "executionParamsList", variables) or [None]
    elif name in ("launchRunReexecution", "launchPipelineReexecution"):
        if argument(node, "reexecutionParams", variables) is not None:
            return None
        params = [argument(node, "executionParams", variables)]
    elif name == "launchPartitionBackfill":
        location = _dig(argument(node, "backfillParams", variables), "selector", "repositorySelector")
        params = [{"selector": location}]
    else:
        return None
    found = {_dig(p, "selector", "repositoryLocationName") for p in params}
    return None if not found or not all(isinstance(f, str) and f for f in found) else found


def _collect_targets(value: Any, targets: dict[str, list[Any]], key: str | None = None) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "path" and isinstance(v, list):
                targets.setdefault("assets", []).append("/".join(map(str, v)))
            else:
                _collect_targets(v, targets, k)
    elif isinstance(value, list):
        for item in value:
            _collect_targets(item, targets, key)
    elif key in _TARGET_KEYS and value is not None:
        bucket = targets.setdefault(_TARGET_KEYS[key], [])
        if value not in bucket and len(bucket) < 100:
            bucket.append(value)


def decide(document: DocumentNode, variables: dict | None, account: Account) -> Decision:
    needed, fields, targets = "viewer", [], {}  # type: ignore[var-annotated]
    locations: set[str] | None = set()
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode) or operation.operation.value != "mutation":
            continue
        values = operation_variables(operation, variables)
        for node in root_fields(document, operation):
            name = node.name.value
            if name == "__typename":
                continue
            fields.append(name)
            for arg in node.arguments or ():
                _collect_targets(value_from_ast_untyped(arg.value, values), targets, arg.name.value)
            if name not in LAUNCHER_FIELDS:
                needed = "admin"
            elif needed == "viewer":
                needed = "launcher"
            if name in LAUNCHER_FIELDS:
                found = field_locations(node, values)
                locations = None if found is None or locations is None else locations | found
    decision = Decision(RANK[account.role] >= RANK[needed], needed, fields, _sorted(locations), targets)
    if not decision.allowed:
        decision.message = (
            f"refused: {', '.join(fields)} needs the {needed} role; account {account.name!r} is a {account.role}"
        )
    elif account.role == "launcher" and account.locations is not None and decision.is_mutation:
        if locations is None:
            decision.allowed = False
            decision.message = (
                f"refused: cannot tell which code location {', '.join(fields)} acts on, and account "
                f"{account.name!r} may launch only in {', '.join(account.locations)}; this needs the admin role"
            )
        elif not locations <= set(account.locations):
            decision.allowed = False
            outside = ", ".join(sorted(locations - set(account.locations)))
            decision.message = (
                f"refused: account {account.name!r} may not launch in {outside} (only in "
                f"{', '.join(account.locations)}); this needs the admin role or a launcher of that location"
            )
    return decision


def _sorted(locations: set[str] | None) -> list[str] | None:
    return sorted(locations) if locations is not None else None
