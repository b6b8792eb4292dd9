"""The OpenAPI document lists every endpoint with usable examples, and the interactive docs answer."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.conftest import TestClient, make_group, sign_up, top_up

ENDPOINTS = {
    ("post", "/v1/users"),
    ("post", "/v1/sessions"),
    ("delete", "/v1/sessions/current"),
    ("get", "/v1/me"),
    ("get", "/v1/wallet"),
    ("get", "/v1/users/{owner_id}/wallet"),
    ("post", "/v1/wallet/top-ups"),
    ("post", "/v1/wallet/withdrawals"),
    ("get", "/v1/wallet/statement"),
    ("get", "/v1/users/{owner_id}/statement"),
    ("get", "/v1/friends"),
    ("post", "/v1/friends/requests"),
    ("post", "/v1/friends/requests/{requester_id}/accept"),
    ("get", "/v1/groups"),
    ("post", "/v1/groups"),
    ("get", "/v1/groups/{group_id}"),
    ("post", "/v1/groups/{group_id}/members"),
    ("delete", "/v1/groups/{group_id}/members/{member_id}"),
    ("get", "/v1/groups/{group_id}/packets"),
    ("post", "/v1/packets"),
    ("get", "/v1/packets/{packet_id}"),
    ("post", "/v1/packets/{packet_id}/grab"),
    ("post", "/v1/packets/{packet_id}/open"),
    ("get", "/health"),
}


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    spec: dict[str, Any] = response.json()
    return spec


def test_openapi_lists_every_endpoint(openapi: dict[str, Any]) -> None:
    listed = {(method, path) for path, ops in openapi["paths"].items() for method in ops}
    assert listed >= ENDPOINTS, sorted(ENDPOINTS - listed)
    assert openapi["info"]["title"] == "hongbao"
    assert "fen" in openapi["info"]["description"]


def test_post_packets_documents_its_examples_and_idempotency_key(client: TestClient, openapi: dict[str, Any]) -> None:
    send = openapi["paths"]["/v1/packets"]["post"]
    examples = send["requestBody"]["content"]["application/json"]["examples"]
    assert {"lucky", "equal", "personal"} <= set(examples)
    assert examples["lucky"]["value"]["split"] == "double_mean"
    assert examples["personal"]["value"]["kind"] == "personal"
    headers = {p["name"] for p in send["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert "201" in send["responses"]

    # The examples are real requests: each is accepted once its ids point at a friend and a group.
    owner, friend = sign_up(client, "owner"), sign_up(client, "friend")
    group_id = make_group(client, owner, [friend])
    top_up(client, owner, 10_000)
    ids = {"group_id": group_id, "recipient_id": friend.id}
    for name, example in examples.items():
        body = {**example["value"], **{k: v for k, v in ids.items() if k in example["value"]}}
        response = client.post("/v1/packets", json=body, headers=owner.headers)
        assert response.status_code == 201, (name, response.text)


def test_amounts_are_documented_as_integer_fen(openapi: dict[str, Any]) -> None:
    amount = openapi["components"]["schemas"]["AmountBody"]["properties"]["amount_fen"]
    assert amount["type"] == "integer"
    assert "fen" in amount["description"]


def test_docs_page_answers_200(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in docs.text
