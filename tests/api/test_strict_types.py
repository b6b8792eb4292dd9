"""Every integer a request carries is strict: a walk over the OpenAPI document poisons each one and expects 422.

The fields come from `/openapi.json`, not from a list here, so a new id, amount or count is covered the day it
is added.  Each operation first gets a minimal valid request built from its schema (required fields, simplest
values), sent once as a control that must pass validation; then one field at a time is replaced by a value of
the wrong type.  This is about the edge, so it runs on SQLite only.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.api.conftest import TestClient, User, assert_problem, make_group, sign_up

# JSON bodies: a boolean, a fraction, a whole float, and numbers written as text are none of them integers.
BODY_POISONS: list[Any] = [True, 1.5, 1.0, "1", "100"]
NUMBER_POISONS: list[Any] = [True, "1"]  # a coordinate may be an integer, never a boolean or text
# Path and query parameters are text: an integer there is decimal digits only.
PARAM_POISONS = ["true", "1.5", "1e0", "1.0", "+1"]
METHODS = ("get", "post", "put", "patch", "delete")
WHEN = "2026-02-19T20:00:00+00:00"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """SQLite only: the checks happen before any store is asked."""
    return f"sqlite:///{tmp_path / 'hongbao.db'}"


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def user(client: TestClient) -> User:
    return sign_up(client, "strict")


# ---------------------------------------------------------------------- reading the schema


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: list[dict[str, Any]]
    body: dict[str, Any] | None  # the JSON body's schema, if the operation takes one

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations(spec: dict[str, Any]) -> Iterator[Operation]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in METHODS:
                continue
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            yield Operation(method, path, op.get("parameters", []), body)


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def choices(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema (itself, resolved, when it has none)."""
    schema = resolve(spec, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options is None:
        return [schema]
    found: list[dict[str, Any]] = []
    for option in options:
        found += [o for o in choices(spec, option) if o.get("type") != "null"]
    return found


def scalar_kind(spec: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """"integer" or "number" for a field whose every non-null alternative is one, else None."""
    kinds = {o.get("type") for o in choices(spec, schema)}
    if kinds == {"integer"}:
        return "integer"
    if kinds and kinds <= {"integer", "number"}:
        return "number"
    return None


def minimal(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The simplest value the schema accepts: required properties only, the lowest allowed number."""
    schema = choices(spec, schema)[0]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal(spec, props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal(spec, schema["items"]) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(0, schema.get("minimum", 0))
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "date-time":
            return WHEN
        return "a" * max(1, schema.get("minLength", 1))
    raise AssertionError(f"no minimal value for {schema}")


Where = tuple[str | int, ...]  # a field's place in a body: keys, and 0 for an array's first item


def numeric_fields(spec: dict[str, Any], schema: dict[str, Any], at: Where = ()) -> Iterator[tuple[Where, str]]:
    """Every integer or number field of a body schema, nested objects and array items included."""
    kind = scalar_kind(spec, schema)
    if kind is not None:
        yield at, kind
        return
    for option in choices(spec, schema):
        if option.get("type") == "object":
            for name, prop in option.get("properties", {}).items():
                yield from numeric_fields(spec, prop, (*at, name))
        elif option.get("type") == "array" and len(at) < 8:
            yield from numeric_fields(spec, option["items"], (*at, 0))


def variants(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A body's alternatives (each kind of a discriminated union is walked on its own)."""
    return [o for o in choices(spec, schema) if o.get("type") == "object"]


def poisoned(spec: dict[str, Any], schema: dict[str, Any], body: Any, at: Where, value: Any) -> Any:
    """The valid body with the field at `at` set to `value` (an optional parent or an array item made on the way)."""
    body = copy.deepcopy(body)
    node, node_schema = body, schema
    for step, key in enumerate(at):
        last = step == len(at) - 1
        if isinstance(key, int):
            item_schema = choices(spec, node_schema)[0]["items"]
            if not node:
                node.append(None if last else minimal(spec, item_schema))
            if last:
                node[0] = value
            node, node_schema = node[0], item_schema
        else:
            option = next(o for o in choices(spec, node_schema) if key in o.get("properties", {}))
            prop = option["properties"][key]
            if last:
                node[key] = value
            elif node.get(key) is None:
                node[key] = minimal(spec, prop)
            node, node_schema = node[key], prop
    return body


# ---------------------------------------------------------------------- the requests


def valid_param(spec: dict[str, Any], param: dict[str, Any]) -> str:
    return str(minimal(spec, param["schema"])).lower()


def request(
    client: TestClient, user: User, op: Operation, values: dict[str, str], body: Any = None
) -> httpx.Response:
    url = op.path
    query: dict[str, str] = {}
    for param in op.parameters:
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", values[param["name"]])
        elif param["in"] == "query" and param["name"] in values:
            query[param["name"]] = values[param["name"]]
    kwargs: dict[str, Any] = {"params": query, "headers": user.headers}
    if body is not None:
        kwargs["json"] = body
    response: httpx.Response = client.request(op.method.upper(), url, **kwargs)
    return response


def base_values(spec: dict[str, Any], op: Operation) -> dict[str, str]:
    """Valid path parameters and required query parameters."""
    return {
        p["name"]: valid_param(spec, p)
        for p in op.parameters
        if p["in"] == "path" or (p["in"] == "query" and p.get("required"))
    }


def assert_refused(response: httpx.Response, where: Where | str, case: object) -> None:
    """422 invalid_request, and the first error names the field (its place, for a nested one)."""
    steps = [where] if isinstance(where, str) else [str(step) for step in where]
    problem = assert_problem(response, 422, "invalid_request", case=case)
    assert problem["errors"][0]["loc"][-len(steps):] == steps, (case, problem)
    assert ".".join(steps) in problem["detail"], (case, problem)


def assert_passes_validation(response: httpx.Response, case: object) -> None:
    """The control: whatever the outcome (2xx or a domain refusal), the request's shape was accepted."""
    assert response.status_code < 500, (case, response.text)
    if response.status_code == 422:
        assert response.json()["code"] != "invalid_request", (case, response.text)


# ---------------------------------------------------------------------- the walks


def test_every_integer_in_a_request_body_refuses_true_fractions_whole_floats_and_text(
    client: TestClient, spec: dict[str, Any], user: User
) -> None:
    # Given every operation that takes a JSON body, a minimal valid body for each of its kinds
    walked: set[tuple[str, Where]] = set()
    for op in operations(spec):
        if op.body is None:
            continue
        values = base_values(spec, op)
        for schema in variants(spec, op.body):
            body = minimal(spec, schema)
            fields = list(numeric_fields(spec, schema))
            if not fields:
                continue
            assert_passes_validation(request(client, user, op, values, body), (op.name, body))
            # When one integer (or number) field at a time is given a value of the wrong type
            for at, kind in fields:
                walked.add((op.name, at) if kind == "integer" else (op.name + " (number)", at))
                for value in BODY_POISONS if kind == "integer" else NUMBER_POISONS:
                    sent = poisoned(spec, schema, body, at, value)
                    # Then it is refused as a malformed request naming that field, never taken as 1 nor a 500
                    assert_refused(request(client, user, op, values, sent), at, (op.name, at, value))
    integers = [w for w in walked if not w[0].endswith("(number)")]
    # The walk found the ids, amounts and counts (and the array items and nested prizes among them).
    assert len(integers) >= 50, sorted(map(str, walked))
    assert ("POST /v1/conversations", ("group_id",)) in walked
    assert ("POST /v1/groups", ("member_ids", 0)) in walked
    assert ("POST /v1/campaigns", ("prizes", 0, "amount_fen")) in walked
    assert ("POST /v1/merchants (number)", ("lat",)) in walked


def test_every_integer_path_and_query_parameter_takes_decimal_digits_only(
    client: TestClient, spec: dict[str, Any], user: User
) -> None:
    # Given every operation with an integer path or query parameter, valid values for the others
    walked: set[tuple[str, str]] = set()
    for op in operations(spec):
        targets = [p for p in op.parameters if p["in"] in ("path", "query") and scalar_kind(spec, p["schema"])
                   == "integer"]
        if not targets:
            continue
        values = base_values(spec, op)
        body = minimal(spec, variants(spec, op.body)[0]) if op.body is not None and variants(spec, op.body) else None
        assert_passes_validation(request(client, user, op, values, body), (op.name, values))
        for param in targets:
            walked.add((op.name, param["name"]))
            # When it is written as anything but plain decimal digits
            for text in PARAM_POISONS:
                sent = {**values, param["name"]: text}
                # Then it is refused as a malformed request naming that parameter
                assert_refused(request(client, user, op, sent, body), param["name"], (op.name, param["name"], text))
    assert len(walked) >= 40, sorted(walked)
    assert ("POST /v1/packets/{packet_id}/open", "packet_id") in walked  # the lean open path is as strict
    assert ("GET /v1/wallet/statement", "limit") in walked


# ---------------------------------------------------------------------- the reported cases


def test_opening_a_conversation_with_group_id_true_or_one_point_zero_is_refused_not_group_one(
    client: TestClient, user: User
) -> None:
    # Given the user's group 1
    group_id = make_group(client, user, [sign_up(client, "member")])
    assert group_id == 1
    for value in (True, 1.0, "1"):
        # When its conversation is opened with a loose id
        response = client.post("/v1/conversations", json={"group_id": value}, headers=user.headers)
        # Then it is refused, and only the integer opens it
        assert_refused(response, "group_id", value)
    opened = client.post("/v1/conversations", json={"group_id": 1}, headers=user.headers)
    assert opened.status_code == 200, opened.text


def test_an_enterprise_budget_of_true_is_refused_before_any_money_moves(client: TestClient, user: User) -> None:
    # Given a campaign that would be valid with an integer budget
    body = {"channel": "link", "name": "春节", "ends_at": WHEN, "budget_fen": 1000,
            "prizes": [{"kind": "cash", "amount_fen": 100}]}
    for field, value in (("budget_fen", True), ("budget_fen", "100"), ("budget_fen", 1.0)):
        # When the budget is not an integer
        response = client.post("/v1/campaigns", json={**body, field: value}, headers=user.headers)
        # Then the request is malformed (not "you are not an enterprise", not 1 fen)
        assert_refused(response, field, value)


def test_a_packet_id_in_the_open_path_is_digits_without_a_sign_or_leading_zero(
    client: TestClient, user: User
) -> None:
    # Given the lean open path and the documented route behind it
    for text in ("01", "1.0", "+1", "true", "1e0", "-1"):
        # When the id is not written as the canonical decimal integer
        response = client.post(f"/v1/packets/{text}/open", headers=user.headers)
        # Then both answer the same: 422 naming packet_id (never another packet, never a 500)
        assert_refused(response, "packet_id", text)
