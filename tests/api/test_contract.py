"""The OpenAPI document is a contract a client generator can trust: bearer auth, readable operation ids, the
problem+json errors the server really sends, typed answers; and /docs works without the internet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.api.conftest import TestClient, assert_problem, sign_up

from hongbao.api.docs import assets_prefix
from hongbao.api.openapi import LINKS, REFUSALS

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """SQLite only: the document and the edge are the same on every store."""
    return f"sqlite:///{tmp_path / 'hongbao.db'}"


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items() if m in METHODS]


def test_the_bearer_scheme_is_declared_and_names_every_route_that_needs_a_token(
    client: TestClient, spec: dict[str, Any]
) -> None:
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    secured = {(m, p) for m, p, op in operations(spec) if op.get("security") == [{"bearer": []}]}
    assert ("post", "/v1/packets/{packet_id}/open") in secured
    assert ("get", "/v1/wallet") in secured
    assert ("post", "/v1/users") not in secured and ("post", "/v1/sessions") not in secured

    # What Swagger UI's Authorize button sends is what the server takes.
    user = sign_up(client, "authorized")
    token = user.headers["Authorization"].removeprefix("Bearer ")
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["id"] == user.id
    assert_problem(client.get("/v1/me"), 401, "token_missing")


def test_operation_ids_are_readable_and_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids
    by_route = {(m, p): op["operationId"] for m, p, op in operations(spec)}
    assert by_route["post", "/v1/packets/{packet_id}/open"] == "packets_open"
    assert by_route["post", "/v1/packets/{packet_id}/grab"] == "packets_grab"
    assert by_route["post", "/v1/wallet/top-ups"] == "wallet_top_up"


def test_every_error_is_documented_as_the_problem_json_the_server_sends(
    client: TestClient, spec: dict[str, Any]
) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert problem.get("additionalProperties") is True  # extension members
    for method, path, op in operations(spec):
        for status, answer in op["responses"].items():
            if status.startswith(("4", "5")) and path.startswith("/v1/"):
                assert list(answer["content"]) == ["application/problem+json"], (method, path, status)
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in op["responses"], (method, path)
        if op.get("security"):
            assert "401" in op["responses"], (method, path)

    # The documented 422 is what a malformed request gets.
    user = sign_up(client, "shape")
    body = assert_problem(client.post("/v1/wallet/top-ups", json={"amount_fen": "100"}, headers=user.headers), 422)
    assert body["code"] == "invalid_request" and body["errors"][0]["loc"] == ["body", "amount_fen"]
    assert set(body) <= set(problem["properties"])


def test_every_operation_answers_a_typed_model(spec: dict[str, Any]) -> None:
    untyped = []
    for method, path, op in operations(spec):
        for status, answer in op["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            for media, content in answer.get("content", {}).items():
                schema = content.get("schema", {})
                if media == "application/json" and "$ref" not in str(schema):
                    untyped.append((method, path, status))
    assert untyped == []


def test_docs_reference_only_this_servers_assets_and_they_are_served(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html.text)
        assert urls, page
        assert all(u.startswith("/") and not u.startswith("//") for u in urls), (page, urls)
        assert "https://" not in html.text and "http://" not in html.text, page
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url
            assert "immutable" in asset.headers["cache-control"]
    assert client.get(f"{assets_prefix()}/swagger-ui-bundle.js").headers["content-type"].startswith(
        ("application/javascript", "text/javascript")
    )


def test_a_405_names_every_method_its_path_answers(client: TestClient) -> None:
    # GET and POST /v1/groups are two routes: the refusal of PUT names both (and HEAD, which GET answers).
    refused = client.put("/v1/groups")
    assert_problem(refused, 405, "method_not_allowed")
    assert refused.headers["allow"] == "GET, HEAD, POST"
    assert client.patch("/v1/users/3/follow").headers["allow"] == "DELETE, POST"
    # /v1/packets/celebrity is its own resource, not a packet id for GET /v1/packets/{packet_id}.
    assert client.put("/v1/packets/celebrity").headers["allow"] == "POST"


def test_the_tables_of_refusals_and_links_name_real_operations(spec: dict[str, Any]) -> None:
    ids = {op["operationId"] for _, _, op in operations(spec)}
    assert set(REFUSALS) <= ids
    assert {name for link in LINKS for name in (link[0], *link[4])} <= ids
    send = spec["paths"]["/v1/packets"]["post"]["responses"]["201"]["links"]["packets_open"]
    assert send == {"operationId": "packets_open", "parameters": {"packet_id": "$response.body#/id"}}
