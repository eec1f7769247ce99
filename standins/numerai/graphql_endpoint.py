"""The GraphQL endpoint: one POST body in, one HTTP answer out.

Order of work, as a client sees it: parse the query (to know which operations it calls),
count the call, apply injected faults (a 5xx answer, a delay), then validate and execute.
GraphQL errors are answered with HTTP 200 and ``{"errors": [...], "data": null}`` as Numerai
does; numerapi turns them into ``ValueError(message)``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    execute_sync,
    parse,
    validate,
)
from graphql.language import DocumentNode

from standins.numerai.faults import Faults
from standins.numerai.resolvers import RequestContext

# What an overloaded gateway in front of an API answers; numerapi only looks at the status.
GATEWAY_BODIES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Answer:
    """An HTTP answer: status, content type and body bytes."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_answer(payload: Any, status: int = 200) -> Answer:
    """Serialise ``payload`` as a JSON answer."""
    return Answer(status, json.dumps(payload).encode())


def errors_answer(errors: list[GraphQLError]) -> Answer:
    """GraphQL errors the way Numerai sends them: HTTP 200, ``data`` null."""
    return json_answer({"errors": [err.formatted for err in errors], "data": None})


def root_fields(document: DocumentNode, operation_name: str | None) -> list[str]:
    """The root field names the chosen operation selects (for fault rules and counters)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return []
    names: list[str] = []

    def walk(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)

    walk(operations[0].selection_set)
    return names


def handle(
    schema: GraphQLSchema, faults: Faults, context: RequestContext, raw_body: bytes
) -> Answer:
    """Answer one GraphQL POST."""
    try:
        body = json.loads(raw_body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return json_answer({"errors": [{"message": "Request body is not valid JSON"}]}, 400)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return json_answer({"errors": [{"message": "Must provide query string."}]}, 400)
    variables = body.get("variables") or {}
    operation_name = body.get("operationName")
    if not isinstance(variables, dict):
        return json_answer({"errors": [{"message": "Variables must be an object."}]}, 400)

    try:
        document = parse(body["query"])
    except GraphQLError as err:
        faults.count("(syntax error)")
        return errors_answer([err])

    operations = root_fields(document, operation_name)
    for operation in operations or ["(unknown)"]:
        faults.count(operation)
    status = faults.take_failure(operations)
    delay = faults.delay_for(operations)
    if delay:
        time.sleep(delay)
    if status is not None:
        text = GATEWAY_BODIES.get(status, "Server Error")
        return Answer(
            status,
            f"<html><body><h1>{status} {text}</h1></body></html>".encode(),
            content_type="text/html",
        )

    errors = validate(schema, document)
    if errors:
        return errors_answer(errors)
    result = execute_sync(
        schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
    )
    if result.errors:
        return errors_answer(result.errors)
    return json_answer({"data": result.data})
