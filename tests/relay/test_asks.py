"""Asks (讨红包) over HTTP and under races: fulfil, decline, expiry, the setting, the daily cap."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from tests.api.conftest import TestClient, User, assert_problem, balance, befriend, make_group, top_up
from tests.conftest import FrozenClock

from .conftest import friends, people, run


def _ask(client: TestClient, asker: User, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/asks", json=body, headers=asker.headers)
    assert response.status_code == 201, response.text
    ask: dict[str, Any] = response.json()
    return ask


def test_ask_fulfilled_gives_the_asker_a_linked_personal_packet(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given two friends, the giver with money.
    kid, aunt = new_user("kid"), new_user("aunt")
    befriend(client, kid, aunt)
    top_up(client, aunt, 10_000)

    # When the kid asks for 8.88 yuan and the aunt fulfils the ask.
    ask = _ask(client, kid, to_user_id=aunt.id, amount_fen=888, message="姑姑新年好")
    assert (ask["status"], ask["direction"], ask["amount_fen"]) == ("open", "sent", 888)
    received = client.get("/v1/asks", headers=aunt.headers).json()
    assert [a["id"] for a in received["received"]] == [ask["id"]] and received["sent"] == []
    done = client.post(f"/v1/asks/{ask['id']}/fulfil", json={"greeting": "好好学习"}, headers=aunt.headers)
    assert done.status_code == 201, done.text
    packet = done.json()["packet"]

    # Then a personal packet of 888 fen waits for the kid, and the ask is closed with a link to it.
    assert (packet["kind"], packet["recipient_id"], packet["total_fen"]) == ("personal", kid.id, 888)
    assert done.json()["ask"]["status"] == "fulfilled" and done.json()["ask"]["packet_id"] == packet["id"]
    assert balance(client, aunt) == 10_000 - 888
    opened = client.post(f"/v1/packets/{packet['id']}/open", headers=kid.headers)
    assert opened.status_code == 200 and opened.json()["amount_fen"] == 888
    assert_problem(client.post(f"/v1/asks/{ask['id']}/fulfil", json={}, headers=aunt.headers), 409, "ask_answered")
    assert_problem(client.post(f"/v1/asks/{ask['id']}/decline", headers=aunt.headers), 409, "ask_answered")


def test_ask_to_a_group_is_fulfilled_by_any_member_with_a_lucky_packet(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    owner, a, b = new_user("g"), new_user("g"), new_user("g")
    group_id = make_group(client, owner, [a, b])
    top_up(client, b, 10_000)
    ask = _ask(client, a, group_id=group_id, message="群里谁发个红包")
    assert [x["id"] for x in client.get("/v1/asks", headers=owner.headers).json()["received"]] == [ask["id"]]
    assert_problem(client.post(f"/v1/asks/{ask['id']}/fulfil", json={"amount_fen": 300}, headers=a.headers), 403,
                   "not_asked")
    assert_problem(client.post(f"/v1/asks/{ask['id']}/fulfil", json={}, headers=b.headers), 422, "invalid_amount")
    assert_problem(client.post(f"/v1/asks/{ask['id']}/decline", headers=b.headers), 422,
                   "group_ask_not_declinable")
    done = client.post(f"/v1/asks/{ask['id']}/fulfil", json={"amount_fen": 300}, headers=b.headers)
    assert done.status_code == 201, done.text
    packet = done.json()["packet"]
    assert (packet["kind"], packet["split"], packet["group_id"], packet["shares_count"]) == (
        "group", "double_mean", group_id, 2
    )


def test_ask_declined_or_expired_refuses_fulfilment_and_moves_no_money(
    client: TestClient, new_user: Callable[..., User], clock: FrozenClock
) -> None:
    kid, aunt = new_user("kid"), new_user("aunt")
    befriend(client, kid, aunt)
    top_up(client, aunt, 10_000)
    declined = _ask(client, kid, to_user_id=aunt.id, amount_fen=100)
    answered = client.post(f"/v1/asks/{declined['id']}/decline", headers=aunt.headers)
    assert answered.status_code == 200 and answered.json()["status"] == "declined"
    assert_problem(client.post(f"/v1/asks/{declined['id']}/fulfil", json={}, headers=aunt.headers), 409,
                   "ask_answered")
    late = _ask(client, kid, to_user_id=aunt.id, amount_fen=100)
    clock.advance(hours=24)
    assert client.get(f"/v1/asks/{late['id']}", headers=kid.headers).json()["status"] == "expired"
    assert_problem(client.post(f"/v1/asks/{late['id']}/fulfil", json={}, headers=aunt.headers), 422, "ask_expired")
    assert_problem(client.post(f"/v1/asks/{late['id']}/decline", headers=aunt.headers), 422, "ask_expired")
    assert balance(client, aunt) == 10_000


def test_ask_refusals_give_stable_codes(client: TestClient, new_user: Callable[..., User]) -> None:
    kid, aunt, stranger = new_user("kid"), new_user("aunt"), new_user("stranger")
    befriend(client, kid, aunt)
    cases = [
        ({"to_user_id": stranger.id}, 422, "not_friends"),
        ({"to_user_id": kid.id}, 422, "cannot_ask_self"),
        ({"to_user_id": 999_999}, 404, "user_not_found"),
        ({"group_id": 999_999}, 404, "group_not_found"),
        ({}, 422, "invalid_ask_target"),
        ({"to_user_id": aunt.id, "group_id": 1}, 422, "invalid_ask_target"),
        ({"to_user_id": aunt.id, "amount_fen": 0}, 422, "invalid_amount"),
        ({"to_user_id": aunt.id, "amount_fen": 20_001}, 422, "amount_too_large"),
        ({"to_user_id": aunt.id, "message": "x" * 65}, 422, "invalid_message"),
    ]
    for body, status, code in cases:
        assert_problem(client.post("/v1/asks", json=body, headers=kid.headers), status, code, case=body)
    ask = _ask(client, kid, to_user_id=aunt.id, amount_fen=100)
    assert_problem(client.get(f"/v1/asks/{ask['id']}", headers=stranger.headers), 404, "ask_not_found")
    assert_problem(client.post(f"/v1/asks/{ask['id']}/fulfil", json={}, headers=stranger.headers), 404,
                   "ask_not_found")
    assert_problem(client.post(f"/v1/asks/{ask['id']}/fulfil", json={}, headers=kid.headers), 403, "not_asked")
    assert_problem(client.post(f"/v1/asks/{ask['id']}/fulfil", json={}, headers=aunt.headers), 422,
                   "insufficient_funds")


def test_ask_setting_off_refuses_asks_with_asks_disabled(client: TestClient, new_user: Callable[..., User]) -> None:
    kid, aunt = new_user("kid"), new_user("aunt")
    befriend(client, kid, aunt)
    assert client.get("/v1/me/settings", headers=aunt.headers).json() == {"allow_asks": True}
    off = client.put("/v1/me/settings", json={"allow_asks": False}, headers=aunt.headers)
    assert off.status_code == 200 and off.json() == {"allow_asks": False}
    assert_problem(client.post("/v1/asks", json={"to_user_id": aunt.id}, headers=kid.headers), 403, "asks_disabled")
    assert_problem(client.put("/v1/me/settings", json={"allow_asks": "no"}, headers=aunt.headers), 422,
                   "invalid_request")
    client.put("/v1/me/settings", json={"allow_asks": True}, headers=aunt.headers)
    assert client.post("/v1/asks", json={"to_user_id": aunt.id}, headers=kid.headers).status_code == 201


def test_asks_past_the_daily_cap_give_asked_too_often_until_the_next_day(
    client: TestClient, new_user: Callable[..., User], clock: FrozenClock
) -> None:
    kid, aunt = new_user("kid"), new_user("aunt")
    befriend(client, kid, aunt)
    for _ in range(10):
        assert client.post("/v1/asks", json={"to_user_id": aunt.id}, headers=kid.headers).status_code == 201
    refused = assert_problem(client.post("/v1/asks", json={"to_user_id": aunt.id}, headers=kid.headers), 429,
                             "asked_too_often")
    assert "too often" in refused["detail"].lower()
    clock.advance(days=1)
    assert client.post("/v1/asks", json={"to_user_id": aunt.id}, headers=kid.headers).status_code == 201


def test_concurrent_asks_by_one_user_never_pass_the_daily_cap(hb: App) -> None:
    # Given a user and a friend, and 25 asks sent at the same moment (one group commit).
    kid, aunt = people(hb, "kid", "aunt")
    friends(hb, kid, aunt)

    async def race() -> list[Any]:
        return await asyncio.gather(*(hb.asks.ask(kid, to_user_id=aunt) for _ in range(25)), return_exceptions=True)

    results = run(race())
    # Then exactly the cap succeeds, the rest are asked_too_often.
    assert all(isinstance(r, dict | HongbaoError) for r in results), results
    outcomes = Counter("ok" if isinstance(r, dict) else r.code for r in results)
    assert outcomes == {"ok": 10, "asked_too_often": 15}
    assert len(run(hb.asks.mine(kid))["sent"]) == 10


def test_two_concurrent_fulfils_of_one_ask_send_one_packet(hb: App) -> None:
    kid, aunt, uncle = people(hb, "kid", "aunt", "uncle")
    friends(hb, kid, aunt, uncle)
    friends(hb, aunt, uncle)
    group = run(hb.social.create_group(kid, "family", [aunt, uncle]))
    personal = run(hb.asks.ask(kid, to_user_id=aunt, amount_fen=500))
    group_ask = run(hb.asks.ask(kid, group_id=group["id"], amount_fen=600))

    async def race() -> list[Any]:
        return await asyncio.gather(
            hb.asks.fulfil(personal["id"], aunt), hb.asks.fulfil(personal["id"], aunt),
            hb.asks.fulfil(group_ask["id"], aunt), hb.asks.fulfil(group_ask["id"], uncle),
            return_exceptions=True,
        )

    results = run(race())
    assert sum(isinstance(r, dict) for r in results[:2]) == 1
    assert sum(isinstance(r, dict) for r in results[2:]) == 1
    assert {r.code for r in results if isinstance(r, HongbaoError)} == {"ask_answered"}
    spent = 100_000 * 2 - run(hb.wallet.balance(aunt)) - run(hb.wallet.balance(uncle))
    assert spent == 500 + 600


def test_ask_fulfil_after_unfriending_gives_not_friends(client: TestClient, new_user: Callable[..., User]) -> None:
    kid, aunt = new_user("kid"), new_user("aunt")
    befriend(client, kid, aunt)
    top_up(client, aunt, 1_000)
    ask = _ask(client, kid, to_user_id=aunt.id, amount_fen=100)
    assert client.delete(f"/v1/friends/{kid.id}", headers=aunt.headers).status_code in (200, 204)
    assert_problem(client.post(f"/v1/asks/{ask['id']}/fulfil", json={}, headers=aunt.headers), 422, "not_friends")
    assert balance(client, aunt) == 1_000
