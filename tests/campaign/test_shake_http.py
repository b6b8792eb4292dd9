"""Shake (摇一摇) over HTTP: events in rounds, sponsor pools, wins under K, rate limits, pools returned at the end."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from hongbao.bootstrap import App
from tests.api.conftest import User, assert_problem, balance
from tests.campaign.conftest import merchant_with_offer
from tests.conftest import FrozenClock


def gala(client: TestClient, owner: User, clock: FrozenClock, **overrides: Any) -> dict[str, Any]:
    """Two rounds of 10 minutes: one starting in 5 minutes, one an hour later."""
    now = clock.now()
    body: dict[str, Any] = {
        "name": "春晚摇一摇",
        "rounds": [
            {
                "starts_at": (now + timedelta(minutes=5)).isoformat(),
                "ends_at": (now + timedelta(minutes=15)).isoformat(),
            },
            {
                "starts_at": (now + timedelta(minutes=65)).isoformat(),
                "ends_at": (now + timedelta(minutes=75)).isoformat(),
            },
        ],
        "win_permille": 1000,
        "cards": ["马年大吉"],
    }
    body.update(overrides)
    response = client.post("/v1/shake/events", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event


def pool(client: TestClient, sponsor: User, event_id: int, budget_fen: int, prizes: list[dict[str, Any]]) -> Any:
    body = {"name": "JD 京东", "cover_text": "京东给您拜年", "budget_fen": budget_fen, "prizes": prizes}
    return client.post(f"/v1/shake/events/{event_id}/pools", json=body, headers=sponsor.headers)


def shake(client: TestClient, user: User, event_id: int) -> Any:
    return client.post(f"/v1/shake/events/{event_id}/shake", headers=user.headers)


def test_a_gala_round_pays_winners_from_the_sponsor_pool_and_returns_the_rest(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a Gala by an enterprise, a sponsor's pool of 5 yuan in 1-yuan prizes, and a viewer
    host, sponsor, viewer = enterprise("cctv"), enterprise("jd", wallet_fen=10_000), new_user("viewer")
    event = gala(client, host, clock)
    funded = pool(client, sponsor, event["id"], 500, [{"kind": "cash", "amount_fen": 100}])
    assert funded.status_code == 201, funded.text
    assert balance(client, sponsor) == 9_500
    # when the viewer shakes before the round
    assert_problem(shake(client, viewer, event["id"]), 422, "round_not_active")
    # when the round is on and every shake wins
    clock.advance(minutes=6)
    results = []
    for _ in range(4):
        results.append(shake(client, viewer, event["id"]).json())
        clock.advance(seconds=1)
    # then three wins (K = 3) pay cash at once, and the fourth is a card or nothing
    assert [r["result"] for r in results[:3]] == ["cash", "cash", "cash"]
    assert results[3]["result"] in ("card", "nothing")
    assert balance(client, viewer) == 300
    assert client.get(f"/v1/shake/events/{event['id']}", headers=viewer.headers).json()["active_round"] == 0
    # when the event ends and the scheduler pass runs
    clock.advance(hours=2)
    assert_problem(shake(client, viewer, event["id"]), 422, "round_not_active")
    assert asyncio.run(hb.campaigns.close_ended_campaigns(clock.now())) == 1
    # then the pool's unspent 2 yuan returned to the sponsor
    assert balance(client, sponsor) == 9_700
    figures = client.get(f"/v1/campaigns/{funded.json()['id']}/figures", headers=sponsor.headers).json()
    assert figures["issued"] == 3 and figures["returned_fen"] == 200


def test_a_coupon_pool_hands_out_coupons(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    host, viewer = enterprise("cctv"), new_user("viewer")
    _, offer_id = merchant_with_offer(client, host, clock.now())
    event = gala(client, host, clock)
    assert pool(client, host, event["id"], 0, [{"kind": "coupon", "offer_id": offer_id}]).status_code == 201
    clock.advance(minutes=6)
    won = shake(client, viewer, event["id"]).json()
    assert won["result"] == "coupon" and won["coupon_id"]
    assert len(client.get("/v1/coupons", headers=viewer.headers).json()["coupons"]) == 1


def test_events_and_pools_need_an_admin_or_an_enterprise(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    nobody, admin = new_user("nobody"), new_user("admin")
    hb.store.write_sync(lambda tx: tx.set_admin(admin.id, True))
    now = clock.now().isoformat()
    body = {"name": "x", "rounds": [{"starts_at": now, "ends_at": (clock.now() + timedelta(hours=1)).isoformat()}]}
    assert_problem(client.post("/v1/shake/events", json=body, headers=nobody.headers), 403, "not_verified")
    event = client.post("/v1/shake/events", json=body, headers=admin.headers)
    assert event.status_code == 201 and event.json()["wins_per_user_max"] == 3
    refused = pool(client, admin, event.json()["id"], 100, [{"kind": "cash", "amount_fen": 100}])
    assert_problem(refused, 403, "not_verified")
    assert_problem(pool(client, enterprise(), 999, 100, [{"kind": "cash", "amount_fen": 100}]), 404)


def test_overlapping_rounds_give_invalid_window(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    host = enterprise()
    now = clock.now()
    rounds = [
        {"starts_at": now.isoformat(), "ends_at": (now + timedelta(minutes=10)).isoformat()},
        {"starts_at": (now + timedelta(minutes=5)).isoformat(), "ends_at": (now + timedelta(minutes=20)).isoformat()},
    ]
    response = client.post("/v1/shake/events", json={"name": "x", "rounds": rounds}, headers=host.headers)
    assert_problem(response, 422, "invalid_window")


def test_an_empty_pool_gives_pool_empty(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    host = enterprise()
    event = gala(client, host, clock)
    pool(client, host, event["id"], 200, [{"kind": "cash", "amount_fen": 100}])
    clock.advance(minutes=6)
    results = [shake(client, new_user(), event["id"]) for _ in range(3)]
    assert [r.json().get("result") for r in results[:2]] == ["cash", "cash"]
    assert_problem(results[2], 409, "pool_empty")


def test_shaking_faster_than_five_a_second_gives_too_many_shakes(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    host, viewer = enterprise(), new_user()
    event = gala(client, host, clock, win_permille=0)
    pool(client, host, event["id"], 200, [{"kind": "cash", "amount_fen": 100}])
    clock.advance(minutes=6)
    codes = [shake(client, viewer, event["id"]).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert_problem(shake(client, viewer, event["id"]), 429, "too_many_shakes")
    clock.advance(seconds=1)
    assert shake(client, viewer, event["id"]).status_code == 200


def test_shakes_per_round_are_capped(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    hb.shake.limits = dataclasses.replace(hb.shake.limits, shakes_per_round_max=3)
    host, viewer = enterprise(), new_user()
    event = gala(client, host, clock, win_permille=0)
    pool(client, host, event["id"], 200, [{"kind": "cash", "amount_fen": 100}])
    clock.advance(minutes=6)
    codes = []
    for _ in range(4):
        codes.append(shake(client, viewer, event["id"]).status_code)
        clock.advance(seconds=1)
    assert codes == [200, 200, 200, 429]
    clock.advance(hours=1)  # the next round
    assert shake(client, viewer, event["id"]).status_code == 200


def test_a_retried_shake_with_the_same_key_gets_the_first_answer_and_pays_once(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    host, viewer = enterprise(), new_user()
    event = gala(client, host, clock)
    pool(client, host, event["id"], 500, [{"kind": "cash", "amount_fen": 100}])
    clock.advance(minutes=6)
    headers = {**viewer.headers, "Idempotency-Key": "shake-1"}
    replies = [client.post(f"/v1/shake/events/{event['id']}/shake", headers=headers) for _ in range(8)]
    assert {r.status_code for r in replies} == {200}
    assert all(r.json() == replies[0].json() for r in replies)
    assert balance(client, viewer) == 100


def test_rounds_without_a_timezone_give_invalid_window(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    host = enterprise()
    rounds = [
        {"starts_at": "2026-02-18T20:00:00", "ends_at": "2026-02-18T21:00:00+08:00"},
        {"starts_at": "2026-02-18T22:00:00+08:00", "ends_at": "2026-02-18T23:00:00+08:00"},
    ]
    response = client.post("/v1/shake/events", json={"name": "x", "rounds": rounds}, headers=host.headers)
    assert_problem(response, 422, "invalid_window")
