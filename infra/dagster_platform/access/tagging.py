""" "Launched by": the gateway adds ``launched_by=<account>`` to every run and backfill a
launch mutation creates, so the Runs page shows and filters who launched what.

The tag goes where Dagster takes run tags (``executionMetadata.tags``, a re-execution's
``extraTags``, a backfill's ``tags``), whether the client wrote the value inline or passed it
in variables. Only the tags list is rebuilt (from plain strings); the rest of the document is
left as written, then printed back with graphql-core's printer. A tag of the same key sent by
the client is replaced, so nobody can launch in another's name.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    ListValueNode,
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    print_ast,
)
from graphql.utilities import value_from_ast_untyped

from dagster_platform.access.policy import operation_variables, root_fields

TAG_KEY = "launched_by"

# field -> (argument, path to the tags list inside it); the first argument present is used.
_TAG_PATHS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "launchRun": (("executionParams", ("executionMetadata", "tags")),),
    "launchPipelineExecution": (("executionParams", ("executionMetadata", "tags")),),
    "launchMultipleRuns": (("executionParamsList", ("executionMetadata", "tags")),),
    "launchRunReexecution": (
        ("reexecutionParams", ("extraTags",)),
        ("executionParams", ("executionMetadata", "tags")),
    ),
    "launchPipelineReexecution": (
        ("reexecutionParams", ("extraTags",)),
        ("executionParams", ("executionMetadata", "tags")),
    ),
    "launchPartitionBackfill": (("backfillParams", ("tags",)),),
}


def _merged(tags: Any, account: str) -> list[dict[str, str]]:
    kept = [t for t in tags or [] if not (isinstance(t, dict) and t.get("key") == TAG_KEY)]
    return [*kept, {"key": TAG_KEY, "value": account}]


def _literal(value: Any) -> ValueNode:
    """Tags are lists of {key, value} strings: the only values rebuilt here."""
    if isinstance(value, list):
        return ListValueNode(values=tuple(_literal(v) for v in value))
    if isinstance(value, dict):
        return ObjectValueNode(
            fields=tuple(ObjectFieldNode(name=NameNode(value=k), value=_literal(v)) for k, v in value.items())
        )
    return StringValueNode(value=str(value))


def _nest(path: tuple[str, ...], leaf: Any) -> Any:
    for key in reversed(path):
        leaf = {key: leaf}
    return leaf


def _python_tagged(value: Any, path: tuple[str, ...], account: str) -> Any:
    if not path:
        return _merged(value, account)
    if isinstance(value, list):
        return [_python_tagged(v, path, account) for v in value]
    value = dict(value) if isinstance(value, dict) else {}
    value[path[0]] = _python_tagged(value.get(path[0]), path[1:], account)
    return value


def _ast_tagged(node: ValueNode | None, path: tuple[str, ...], variables: dict[str, Any], account: str) -> ValueNode:
    if isinstance(node, VariableNode):
        name = node.name.value
        variables[name] = _python_tagged(variables.get(name), path, account)
        return node
    if isinstance(node, ListValueNode) and path:
        return ListValueNode(values=tuple(_ast_tagged(v, path, variables, account) for v in node.values))
    if not path:
        resolved = value_from_ast_untyped(node, variables) if node is not None else None
        return _literal(_merged(resolved, account))
    if not isinstance(node, ObjectValueNode):  # absent or null: build the nested object
        return _literal(_nest(path, _merged([], account)))
    fields = list(node.fields)
    for index, child in enumerate(fields):
        if child.name.value == path[0]:
            value = None if isinstance(child.value, NullValueNode) else child.value
            fields[index] = ObjectFieldNode(name=child.name, value=_ast_tagged(value, path[1:], variables, account))
            break
    else:
        fields.append(
            ObjectFieldNode(name=NameNode(value=path[0]), value=_ast_tagged(None, path[1:], variables, account))
        )
    return ObjectValueNode(fields=tuple(fields))


def _tag_field(node: FieldNode, variables: dict[str, Any], account: str) -> None:
    arguments = list(node.arguments or ())
    for arg_name, path in _TAG_PATHS[node.name.value]:
        for index, arg in enumerate(arguments):
            if arg.name.value == arg_name and not isinstance(arg.value, NullValueNode):
                if isinstance(arg.value, VariableNode) and variables.get(arg.value.name.value) is None:
                    continue  # a variable sent as null: try the next argument
                arguments[index] = type(arg)(name=arg.name, value=_ast_tagged(arg.value, path, variables, account))
                node.arguments = tuple(arguments)
                return


def tag_launches(document: DocumentNode, variables: dict | None, account: str) -> tuple[str, dict[str, Any]] | None:
    """The query text and variables with the tag added, or None when nothing is launched."""
    changed = False
    values: dict[str, Any] = dict(variables or {})
    for operation in document.definitions:
        if isinstance(operation, OperationDefinitionNode) and operation.operation.value == "mutation":
            values = {**operation_variables(operation, None), **values}
            for node in root_fields(document, operation):
                if node.name.value in _TAG_PATHS:
                    _tag_field(node, values, account)
                    changed = True
    return (print_ast(document), values) if changed else None
