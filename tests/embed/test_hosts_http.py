"""The platform API over HTTP: a host app acts for its own users by external id, with no hongbao password anywhere,
and can neither see nor move another host's users' money."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hongbao.bootstrap import App
from tests.api.conftest import PROBLEM, TestClient
from tests.embed.conftest import Host


def befriend(client: TestClient, host: Host, a: str, b: str) -> tuple[int, int]:
    """Make the host's users `a` and `b` friends through the host's key; return their hongbao ids."""
    a_id = client.get("/v1/wallet", headers=host.as_user(a)).json()["user_id"]
    b_id = client.get("/v1/wallet", headers=host.as_user(b)).json()["user_id"]
    asked = client.post("/v1/friends/requests", json={"user_id": b_id}, headers=host.as_user(a))
    assert asked.status_code == 201, asked.text
    accepted = client.post(f"/v1/friends/requests/{a_id}/accept", headers=host.as_user(b))
    assert accepted.status_code == 200, accepted.text
    return a_id, b_id


def fund(client: TestClient, host: Host, who: str, amount_fen: int) -> None:
    topped = client.post("/v1/wallet/top-ups", json={"amount_fen": amount_fen},
                         headers=host.as_user(who, **{"Idempotency-Key": f"fund-{who}-{amount_fen}"}))
    assert topped.status_code == 201, topped.text


def balance(client: TestClient, host: Host, who: str) -> int:
    got = client.get("/v1/wallet", headers=host.as_user(who))
    assert got.status_code == 200, got.text
    value: int = got.json()["balance_fen"]
    return value


def test_a_host_sends_and_opens_packets_for_its_own_users_with_no_hongbao_password(
    client: TestClient, new_host: Callable[..., Host], hb: App
) -> None:
    wechat = new_host("wechat")
    fund(client, wechat, "wx-alice", 10_000)
    alice_id, bob_id = befriend(client, wechat, "wx-alice", "wx-bob")
    sent = client.post("/v1/packets", json={"kind": "personal", "recipient_id": bob_id, "amount_fen": 520},
                       headers=wechat.as_user("wx-alice", **{"Idempotency-Key": "p1"}))
    assert sent.status_code == 201, sent.text
    opened = client.post(f"/v1/packets/{sent.json()['id']}/open", headers=wechat.as_user("wx-bob"))  # the lean path
    assert opened.status_code == 200, opened.text
    assert opened.json()["amount_fen"] == 520
    assert balance(client, wechat, "wx-alice") == 10_000 - 520
    assert balance(client, wechat, "wx-bob") == 520
    # The same external id is the same wallet on every request; the users have no password that logs in.
    assert client.get("/v1/wallet", headers=wechat.as_user("wx-alice")).json()["user_id"] == alice_id
    user = asyncio.run(hb.store.read(lambda tx: tx.users_by_ids([alice_id])))[alice_id]
    assert user.password_hash == "!"
    for password in ("", "!", "hongbao123"):
        login = client.post("/v1/sessions", json={"username": user.username, "password": password})
        assert login.status_code in (401, 422)


def test_a_second_hosts_key_can_neither_see_nor_move_the_first_hosts_money(
    client: TestClient, new_host: Callable[..., Host]
) -> None:
    a, b = new_host("host-a"), new_host("host-b")
    fund(client, a, "alice", 5_000)
    _, bob_id = befriend(client, a, "alice", "bob")
    personal = client.post("/v1/packets", json={"kind": "personal", "recipient_id": bob_id, "amount_fen": 300},
                           headers=a.as_user("alice")).json()
    transfer = client.post("/v1/transfers", json={"to_user_id": bob_id, "amount_fen": 200},
                           headers=a.as_user("alice"))
    assert transfer.status_code == 201, transfer.text
    # Host B naming A's external ids gets its own, empty users: the same external id in another host is another person.
    assert balance(client, b, "alice") == 0
    assert balance(client, b, "bob") == 0
    assert client.get("/v1/wallet", headers=b.as_user("alice")).json()["user_id"] != bob_id
    # Nor can it reach A's objects by their ids.
    seen = client.get(f"/v1/packets/{personal['id']}", headers=b.as_user("bob"))
    assert seen.status_code in (403, 404) and seen.headers["content-type"] == PROBLEM
    opened = client.post(f"/v1/packets/{personal['id']}/open", headers=b.as_user("bob"))
    assert opened.status_code in (403, 404)
    accepted = client.post(f"/v1/transfers/{transfer.json()['id']}/accept", headers=b.as_user("bob"))
    assert accepted.status_code in (403, 404)
    assert client.get(f"/v1/transfers/{transfer.json()['id']}", headers=b.as_user("bob")).status_code == 404
    # Host A's money is where A's users put it; host B moved nothing.
    assert balance(client, a, "alice") == 5_000 - 300 - 200
    assert balance(client, a, "bob") == 0
    # Each host's dashboard counts its own users only.
    a_figures = client.get("/v1/host", headers=a.itself).json()["figures"]
    b_figures = client.get("/v1/host", headers=b.itself).json()["figures"]
    assert a_figures["users_count"] == 2 and a_figures["packets_sent_fen"] == 300
    assert b_figures["users_count"] == 2 and b_figures["packets_sent_fen"] == 0
    # And B cannot revoke or rotate A's key.
    assert client.delete(f"/v1/host/keys/{a.key_id}", headers=b.itself).status_code == 404
    assert client.post(f"/v1/host/keys/{a.key_id}/rotate", headers=b.itself).status_code == 404
    assert client.get("/v1/wallet", headers=a.as_user("alice")).status_code == 200


def test_keys_are_scoped_rotatable_and_revocable(client: TestClient, new_host: Callable[..., Host], hb: App) -> None:
    host = new_host("scoped")
    reader = asyncio.run(hb.hosts.new_key("scoped", "read"))
    as_reader = {"Authorization": f"Bearer {reader['key']}", "X-On-Behalf-Of": "u1"}
    assert client.get("/v1/wallet", headers=as_reader).status_code == 200
    refused = client.post("/v1/wallet/top-ups", json={"amount_fen": 100}, headers=as_reader)
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    dashboard = client.get("/v1/host", headers={"Authorization": f"Bearer {reader['key']}"})
    assert dashboard.json()["code"] == "scope_missing"
    rotated = client.post(f"/v1/host/keys/{host.key_id}/rotate", headers=host.itself)
    assert rotated.status_code == 201, rotated.text
    old = client.get("/v1/wallet", headers=host.as_user("u1"))
    assert old.status_code == 401 and old.json()["code"] == "host_key_invalid"
    new = {"Authorization": f"Bearer {rotated.json()['key']}", "X-On-Behalf-Of": "u1"}
    assert client.get("/v1/wallet", headers=new).status_code == 200
    revoked = client.delete(f"/v1/host/keys/{reader['key_id']}", headers={"Authorization": new["Authorization"]})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/v1/wallet", headers=as_reader).status_code == 401
    # A key that is not one, a session token naming someone, a host key naming no one: all refused.
    assert client.get("/v1/wallet", headers={"Authorization": "Bearer hk_nope_nope", "X-On-Behalf-Of": "u1"}
                      ).status_code == 401
    assert client.get("/v1/wallet", headers={**new, "X-On-Behalf-Of": ""}).status_code == 422
    assert client.get("/v1/wallet", headers={"Authorization": new["Authorization"]}).json()["code"] == (
        "on_behalf_of_missing")


def test_a_session_token_cannot_act_on_behalf_of_anyone(client: TestClient, new_host: Callable[..., Host]) -> None:
    from tests.api.conftest import sign_up

    erin = sign_up(client, "erin")
    got = client.get("/v1/wallet", headers={**erin.headers, "X-On-Behalf-Of": "someone"})
    assert got.status_code == 401 and got.json()["code"] == "on_behalf_of_needs_host_key"


def test_a_host_is_held_to_its_rate(client: TestClient, new_host: Callable[..., Host]) -> None:
    host = new_host("chatty", rate_per_min=3)
    codes = [client.get("/v1/wallet", headers=host.as_user("u")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/v1/wallet", headers=host.as_user("v"))
    assert limited.json()["code"] == "host_rate_limited" and int(limited.headers["retry-after"]) >= 1


def test_a_hosts_daily_volume_refuses_the_send_that_would_pass_it_and_moves_no_money(
    client: TestClient, new_host: Callable[..., Host]
) -> None:
    host = new_host("capped", daily_volume_fen_max=1_000)
    fund(client, host, "a", 5_000)
    _, b_id = befriend(client, host, "a", "b")
    ok = client.post("/v1/packets", json={"kind": "personal", "recipient_id": b_id, "amount_fen": 800},
                     headers=host.as_user("a"))
    assert ok.status_code == 201, ok.text
    over = client.post("/v1/transfers", json={"to_user_id": b_id, "amount_fen": 300}, headers=host.as_user("a"))
    assert over.status_code == 429 and over.json()["code"] == "host_volume_exceeded"
    assert balance(client, host, "a") == 5_000 - 800  # the refused transfer rolled back with its count
    within = client.post("/v1/transfers", json={"to_user_id": b_id, "amount_fen": 200}, headers=host.as_user("a"))
    assert within.status_code == 201, within.text
    assert client.get("/v1/host", headers=host.itself).json()["figures"]["volume_today_fen"] == 1_000


def test_only_an_admin_registers_a_host_over_the_api(client: TestClient, hb: App) -> None:
    from tests.api.conftest import sign_up

    admin, other = sign_up(client, "root_admin"), sign_up(client, "not_admin")
    asyncio.run(hb.social_graph.grant_admin("root_admin"))
    refused = client.post("/v1/admin/hosts", json={"name": "x"}, headers=other.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "not_admin"
    made = client.post("/v1/admin/hosts", json={"name": "matrix", "rate_per_min": 100,
                                                 "webhook_url": "http://127.0.0.1:8599/hooks"}, headers=admin.headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["key"]["key"].startswith("hk_") and body["webhook_secret"].startswith("whsec_")
    listed = client.get("/v1/host", headers={"Authorization": f"Bearer {body['key']['key']}"}).json()
    assert listed["name"] == "matrix" and "key" not in str(listed["keys"][0].keys() - {"key_id"})
    taken = client.post("/v1/admin/hosts", json={"name": "matrix"}, headers=admin.headers)
    assert taken.status_code == 409 and taken.json()["code"] == "host_name_taken"


def test_many_first_requests_for_one_new_external_id_make_one_wallet(
    client: TestClient, new_host: Callable[..., Host], hb: App
) -> None:
    host = new_host("burst")

    async def burst() -> set[int]:
        ids = await asyncio.gather(*(hb.hosts.acting_user(host.key, "new-user", "GET") for _ in range(20)))
        return set(ids)

    ids = asyncio.run(burst())
    assert len(ids) == 1
    figures = client.get("/v1/host", headers=host.itself).json()["figures"]
    assert figures["users_count"] == 1
