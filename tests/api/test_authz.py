"""Who may see and touch what: other users' wallets and packets, non-members of a group, and the token wall."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.routing import iter_route_contexts
from tests.api.conftest import (
    TestClient,
    User,
    assert_problem,
    balance,
    befriend,
    make_group,
    send_lucky,
    send_personal,
    top_up,
)

# (method, path) that answer without a token; everything else must ask for one.
PUBLIC = {
    ("POST", "/v1/users"),
    ("POST", "/v1/sessions"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),  # Prometheus scrapes it without a token (HONGBAO_METRICS=false turns it off)
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/"),  # the browser app's page; it logs in through the API
    ("GET", "/app"),  # the browser app's deep links answer the same page (web area)
    ("GET", "/app/{rest:path}"),
    ("GET", "/v1/demo-users"),  # embedded mode with demo data only (404 otherwise): the demo logins
    ("GET", "/s/{token}"),  # share-link landing page (open area): anyone with the link; it logs in through the API
    ("GET", "/s/{token}/card.png"),  # its password card: the phrase only if the sharer embedded it
    ("GET", "/favicon.ico"),  # the app's icon, for every page (web area)
}


@dataclass(frozen=True)
class Scene:
    """Alice sends; Carol is her friend and fellow group member; Mallory is in neither."""

    alice: User
    carol: User
    mallory: User
    group_id: int


@pytest.fixture
def scene(client: TestClient, new_user: Callable[..., User]) -> Scene:
    alice, carol, mallory = new_user("alice"), new_user("carol"), new_user("mallory")
    group_id = make_group(client, alice, [carol])
    top_up(client, alice, 50_000)
    return Scene(alice, carol, mallory, group_id)


def test_another_users_wallet_and_statement_give_404(client: TestClient, scene: Scene) -> None:
    mallory = scene.mallory.headers
    assert_problem(client.get(f"/v1/users/{scene.alice.id}/wallet", headers=mallory), 404, "account_not_found")
    assert_problem(client.get(f"/v1/users/{scene.alice.id}/statement", headers=mallory), 404, "account_not_found")
    # Unknown ids look the same as other people's: nothing to learn by probing.
    assert_problem(client.get("/v1/users/999999/wallet", headers=mallory), 404, "account_not_found")

    own = client.get(f"/v1/users/{scene.alice.id}/wallet", headers=scene.alice.headers)
    assert own.status_code == 200
    assert own.json() == {"user_id": scene.alice.id, "balance_fen": 50_000}
    own_statement = client.get(f"/v1/users/{scene.alice.id}/statement", headers=scene.alice.headers)
    assert [e["amount_fen"] for e in own_statement.json()["entries"]] == [50_000]


def test_another_users_personal_packet_is_hidden_and_cannot_be_opened(client: TestClient, scene: Scene) -> None:
    packet = send_personal(client, scene.alice, scene.carol, 888)
    path = f"/v1/packets/{packet['id']}"

    assert_problem(client.get(path, headers=scene.mallory.headers), 404, "packet_not_found")
    assert_problem(client.post(f"{path}/grab", headers=scene.mallory.headers), 403, "not_eligible")
    assert_problem(client.post(f"{path}/open", headers=scene.mallory.headers), 403, "not_eligible")
    # The sender sees their packet but cannot take it back by opening it.
    assert client.get(path, headers=scene.alice.headers).status_code == 200
    assert_problem(client.post(f"{path}/open", headers=scene.alice.headers), 403, "not_eligible")
    assert balance(client, scene.mallory) == 0

    opened = client.post(f"{path}/open", headers=scene.carol.headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["amount_fen"] == 888


def test_a_friend_who_is_not_the_recipient_cannot_open_a_personal_packet(client: TestClient, scene: Scene) -> None:
    befriend(client, scene.alice, scene.mallory)
    packet = send_personal(client, scene.alice, scene.carol, 300)

    assert_problem(client.post(f"/v1/packets/{packet['id']}/open", headers=scene.mallory.headers), 403, "not_eligible")
    assert balance(client, scene.mallory) == 0


def test_non_members_cannot_see_grab_or_open_a_group_packet(client: TestClient, scene: Scene) -> None:
    packet = send_lucky(client, scene.alice, scene.group_id, total_fen=1_000, shares_count=2)
    path = f"/v1/packets/{packet['id']}"
    mallory = scene.mallory.headers

    assert_problem(client.get(path, headers=mallory), 403, "not_group_member")
    assert_problem(client.post(f"{path}/grab", headers=mallory), 403, "not_group_member")
    assert_problem(client.post(f"{path}/open", headers=mallory), 403, "not_group_member")
    assert_problem(client.get(f"/v1/groups/{scene.group_id}/packets", headers=mallory), 404, "group_not_found")
    assert_problem(client.get(f"/v1/groups/{scene.group_id}", headers=mallory), 404, "group_not_found")
    assert balance(client, scene.mallory) == 0

    assert client.post(f"{path}/grab", headers=scene.carol.headers).json() == {"packet_id": packet["id"],
                                                                               "can_open": True}
    listed = client.get(f"/v1/groups/{scene.group_id}/packets", headers=scene.carol.headers)
    assert [p["id"] for p in listed.json()["packets"]] == [packet["id"]]


def test_a_member_removed_from_the_group_can_no_longer_open_its_packet(client: TestClient, scene: Scene) -> None:
    packet = send_lucky(client, scene.alice, scene.group_id, total_fen=1_000, shares_count=2)
    path = f"/v1/packets/{packet['id']}"
    assert client.post(f"{path}/grab", headers=scene.carol.headers).status_code == 200  # warms the gate's cache

    removed = client.delete(f"/v1/groups/{scene.group_id}/members/{scene.carol.id}", headers=scene.alice.headers)
    assert removed.status_code == 200, removed.text

    assert_problem(client.post(f"{path}/open", headers=scene.carol.headers), 403, "not_group_member")
    assert balance(client, scene.carol) == 0


def test_every_endpoint_but_the_public_ones_requires_a_token(client: TestClient, scene: Scene) -> None:
    # iter_route_contexts walks into included routers (app.routes alone holds them unexpanded).
    routes = {
        (method, ctx.path)
        for ctx in iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
        if ctx.path is not None
        for method in ctx.methods or ()
        if method != "HEAD"
    }
    documented = {(m.upper(), path) for path, ops in client.get("/openapi.json").json()["paths"].items() for m in ops}
    assert documented <= routes  # nothing escapes the walk below
    guarded = sorted(routes - PUBLIC)
    assert len(guarded) >= 20
    for method, path in guarded:
        response = client.request(method, re.sub(r"\{[^}]+\}", "1", path))
        # A host app's own endpoints take its key (hk_…), not a user's token: the refusal names what is missing.
        missing = "host_key_missing" if path == "/v1/host" or path.startswith("/v1/host/") else "token_missing"
        assert_problem(response, 401, missing, case=(method, path))
        assert response.headers["www-authenticate"] == "Bearer"
    # Nothing was done on anyone's behalf.
    assert balance(client, scene.alice) == 50_000


def test_public_endpoints_answer_without_a_token(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    registered = client.post("/v1/users", json={"username": "newcomer", "password": "correct horse battery"})
    assert registered.status_code == 201, registered.text
    session = client.post("/v1/sessions", json={"username": "newcomer", "password": "correct horse battery"})
    assert session.status_code == 201, session.text
    wrong = client.post("/v1/sessions", json={"username": "newcomer", "password": "wrong horse battery"})
    assert_problem(wrong, 401, "bad_credentials")
