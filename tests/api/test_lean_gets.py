"""The simple authenticated GETs answered before FastAPI (api/hotpath.py) answer exactly what their routes answer:
the same status, body and headers, for the caller, another user, a missing or wrong token, HEAD and a query."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from tests.api.conftest import TestClient, User, top_up
from tests.api.test_observability import requests_of, scrape

from hongbao.api.app import create_app
from hongbao.api.hotpath import HotPath
from hongbao.api.types import ID_MAX
from hongbao.bootstrap import App

# What differs between two answers by design: the request id, and the date an HTTP server would add.
_PER_REQUEST = {"x-request-id", "date"}


@pytest.fixture
def routes_only(hb: App) -> Iterator[TestClient]:
    """The same app without the lean path: FastAPI's documented routes answer everything."""
    api = create_app(hb, scheduler=False)
    api.user_middleware = [m for m in api.user_middleware if m.cls is not HotPath]
    with TestClient(api) as test_client:
        yield test_client


def test_lean_gets_answer_as_their_routes_do(
    client: TestClient, routes_only: TestClient, new_user: Callable[..., User], hb: App
) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    top_up(client, alice, 1_234)
    hb.store.write_sync(lambda tx: tx.set_admin(bob.id, True))
    hb.store.write_sync(lambda tx: tx.set_verified_as(bob.id, "celebrity"))
    asks: list[tuple[str, str, dict[str, str]]] = [
        ("GET", "/v1/wallet", alice.headers),
        ("GET", "/v1/wallet", bob.headers),
        ("GET", "/v1/wallet?page=2", alice.headers),
        ("HEAD", "/v1/wallet", alice.headers),
        ("GET", "/v1/me", alice.headers),
        ("GET", "/v1/me", bob.headers),
        ("GET", f"/v1/users/{alice.id}/wallet", alice.headers),
        ("GET", f"/v1/users/{bob.id}/wallet", alice.headers),  # another's wallet does not exist for you
        ("GET", f"/v1/users/{ID_MAX + 1}/wallet", alice.headers),
        ("GET", "/v1/wallet", {}),
        ("GET", "/v1/me", {"Authorization": "Bearer not-a-token"}),
        ("GET", "/v1/me", {"Authorization": "Basic YWxpY2U6eA=="}),
        ("GET", "/v1/wallet", {**alice.headers, "X-On-Behalf-Of": "u1"}),
    ]
    for method, path, headers in asks:
        lean, routed = client.request(method, path, headers=headers), routes_only.request(method, path, headers=headers)
        assert (lean.status_code, lean.content) == (routed.status_code, routed.content), (method, path)
        assert {k: v for k, v in lean.headers.items() if k not in _PER_REQUEST} == {
            k: v for k, v in routed.headers.items() if k not in _PER_REQUEST}, (method, path)
    assert client.get("/v1/wallet", headers=alice.headers).json() == {"user_id": alice.id, "balance_fen": 1_234}
    assert client.get("/v1/me", headers=bob.headers).json() == {
        "id": bob.id, "username": bob.username, "display_name": bob.username, "verified_as": "celebrity",
        "is_admin": True, "merchant": False}
    assert client.get(f"/v1/users/{bob.id}/wallet", headers=alice.headers).json()["code"] == "account_not_found"

    # and /metrics counts them under their route templates, as FastAPI's routes would be
    samples = scrape(client)
    assert requests_of(samples, "GET", "/v1/wallet", "200") == 4
    assert requests_of(samples, "GET", "/v1/me", "200") == 3
    assert requests_of(samples, "GET", "/v1/users/{owner_id}/wallet", "404") == 2
