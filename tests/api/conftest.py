"""Fixtures for the HTTP API: a TestClient around the app on each store, and helpers that act over HTTP."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from hongbao.api.app import create_app
from hongbao.bootstrap import App

with warnings.catch_warnings():
    # Starlette asks for httpx2; the project pins httpx (pyproject dev extra), which still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient as TestClient  # re-exported for the test modules

PASSWORD = "correct horse battery"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class User:
    """A registered, logged-in user as the API knows them."""

    id: int
    username: str
    headers: dict[str, str]


@pytest.fixture
def client(hb: App) -> Iterator[TestClient]:
    """The ASGI app on one store (both are parametrized by `hb`), without the expiry scheduler."""
    with TestClient(create_app(hb, scheduler=False)) as test_client:
        yield test_client


def sign_up(client: TestClient, username: str, password: str = PASSWORD) -> User:
    """Register over HTTP, log in, and return the user with their bearer-token headers."""
    registered = client.post("/v1/users", json={"username": username, "password": password})
    assert registered.status_code == 201, registered.text
    session = client.post("/v1/sessions", json={"username": username, "password": password})
    assert session.status_code == 201, session.text
    body = session.json()
    assert body["user_id"] == registered.json()["id"]
    return User(body["user_id"], username, {"Authorization": f"Bearer {body['token']}"})


@pytest.fixture
def new_user(client: TestClient) -> Callable[..., User]:
    """Factory: `new_user()` or `new_user("alice")` registers a fresh user and logs them in."""
    counter = itertools.count(1)

    def make(prefix: str = "user") -> User:
        return sign_up(client, f"{prefix}_{next(counter)}")

    return make


def top_up(client: TestClient, user: User, amount_fen: int, key: str | None = None) -> dict[str, Any]:
    headers = user.headers if key is None else {**user.headers, "Idempotency-Key": key}
    response = client.post("/v1/wallet/top-ups", json={"amount_fen": amount_fen}, headers=headers)
    assert response.status_code == 201, response.text
    reply: dict[str, Any] = response.json()
    return reply


def balance(client: TestClient, user: User) -> int:
    response = client.get("/v1/wallet", headers=user.headers)
    assert response.status_code == 200, response.text
    value: int = response.json()["balance_fen"]
    return value


def statement(client: TestClient, user: User) -> list[dict[str, Any]]:
    """Every entry of the user's statement, newest first (all pages)."""
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100"} if cursor is None else {"limit": "100", "cursor": cursor}
        response = client.get("/v1/wallet/statement", params=params, headers=user.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        entries.extend(page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            return entries


def befriend(client: TestClient, a: User, b: User) -> None:
    """`a` asks `b`, `b` accepts: they are friends."""
    asked = client.post("/v1/friends/requests", json={"user_id": b.id}, headers=a.headers)
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "pending"
    accepted = client.post(f"/v1/friends/requests/{a.id}/accept", headers=b.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"


def make_group(client: TestClient, owner: User, members: list[User], name: str = "相亲相爱一家人") -> int:
    """The owner befriends every member and creates a group of them all; returns the group id."""
    for member in members:
        befriend(client, owner, member)
    response = client.post(
        "/v1/groups", json={"name": name, "member_ids": [m.id for m in members]}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    group = response.json()
    assert {m["id"] for m in group["members"]} == {owner.id, *(m.id for m in members)}
    group_id: int = group["id"]
    return group_id


def send_lucky(client: TestClient, sender: User, group_id: int, total_fen: int, shares_count: int) -> dict[str, Any]:
    body = {"kind": "group", "group_id": group_id, "split": "double_mean", "shares_count": shares_count,
            "total_fen": total_fen, "greeting": "恭喜发财"}
    response = client.post("/v1/packets", json=body, headers=sender.headers)
    assert response.status_code == 201, response.text
    packet: dict[str, Any] = response.json()
    return packet


def send_personal(client: TestClient, sender: User, recipient: User, amount_fen: int) -> dict[str, Any]:
    body = {"kind": "personal", "recipient_id": recipient.id, "amount_fen": amount_fen}
    response = client.post("/v1/packets", json=body, headers=sender.headers)
    assert response.status_code == 201, response.text
    packet: dict[str, Any] = response.json()
    return packet


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None, *, case: object = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and code), and no traceback leaked.

    `case` names the input in the failure message, for table-driven tests.
    """
    where = f"case {case!r}: " if case is not None else ""
    assert response.status_code == status, where + response.text
    assert response.headers["content-type"].startswith(PROBLEM), where + response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status, where + response.text
    assert isinstance(body["code"], str) and body["code"], where + response.text
    assert body["title"] and isinstance(body["detail"], str), where + response.text
    assert "Traceback" not in response.text, where + response.text
    if code is not None:
        assert body["code"] == code, where + response.text
    return body
