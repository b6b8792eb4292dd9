"""Fixtures for open packets: a TestClient on each store and helpers that act over HTTP."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from hongbao.api.app import create_app
from hongbao.bootstrap import App
from tests.api.conftest import User, sign_up, top_up

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def client(hb: App) -> Iterator[TestClient]:
    with TestClient(create_app(hb, scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def new_user(client: TestClient) -> Callable[..., User]:
    """Factory: a fresh logged-in user, topped up with `fen` if given."""
    counter = itertools.count(1)

    def make(prefix: str = "user", fen: int = 0) -> User:
        user = sign_up(client, f"{prefix}_{next(counter)}")
        if fen:
            top_up(client, user, fen)
        return user

    return make


def post(client: TestClient, path: str, user: User, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json=body, headers={**user.headers, **headers})


def send_face_to_face(client: TestClient, sender: User, **body: Any) -> dict[str, Any]:
    payload = {"split": "double_mean", "shares_count": 3, "total_fen": 300, "greeting": "见面发财", **body}
    response = post(client, "/v1/packets/face-to-face", sender, payload)
    assert response.status_code == 201, response.text
    packet: dict[str, Any] = response.json()
    return packet


def send_password(client: TestClient, sender: User, phrase: str, **body: Any) -> dict[str, Any]:
    payload = {"phrase": phrase, "split": "equal", "shares_count": 3, "amount_each_fen": 100, **body}
    response = post(client, "/v1/packets/password", sender, payload)
    assert response.status_code == 201, response.text
    packet: dict[str, Any] = response.json()
    return packet


def verify_celebrity(hb: App, user: User) -> None:
    assert hb.store.write_sync(lambda tx: tx.set_verified_as(user.id, "celebrity"))
