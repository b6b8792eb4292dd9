"""Shakes on one WebSocket (/v1/shake/socket): the same rules, limits and money as POST …/shake, and its refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hongbao.bootstrap import App
from tests.api.conftest import User, balance
from tests.campaign.test_shake_http import gala, pool, shake
from tests.conftest import FrozenClock


def test_shakes_on_one_socket_win_at_most_k_times_and_pay_as_the_post_does(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a round on whose every shake wins, a pool of 5 yuan, and a viewer on the socket
    host, viewer = enterprise("cctv"), new_user("viewer")
    event = gala(client, host, clock)
    assert pool(client, host, event["id"], 500, [{"kind": "cash", "amount_fen": 100}]).status_code == 201
    clock.advance(minutes=6)
    with client.websocket_connect("/v1/shake/socket", headers=viewer.headers) as ws:
        answers = []
        for n in range(4):
            ws.send_json({"event_id": event["id"], "id": n})
            answers.append(ws.receive_json())
            clock.advance(seconds=1)
    # then each answer echoes its id; three wins (K = 3) paid at once, the fourth nothing or a card
    assert [a["id"] for a in answers] == [0, 1, 2, 3]
    assert [a["result"] for a in answers[:3]] == ["cash"] * 3 and answers[3]["result"] in ("card", "nothing")
    assert all(a["status"] == 200 and a["round"] == 0 for a in answers)
    assert balance(client, viewer) == 300
    # and the HTTP path sees the same cap
    assert shake(client, viewer, event["id"]).json()["result"] in ("card", "nothing")
    asyncio.run(hb.shake.release_due(clock.now()))


def test_a_browser_sends_its_token_first_and_a_bad_one_closes_the_socket(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    host, viewer = enterprise(), new_user()
    event = gala(client, host, clock, win_permille=0)
    pool(client, host, event["id"], 200, [{"kind": "cash", "amount_fen": 100}])
    clock.advance(minutes=6)
    with client.websocket_connect("/v1/shake/socket") as ws:
        ws.send_json({"token": viewer.headers["Authorization"].removeprefix("Bearer ")})
        assert ws.receive_json() == {"id": None, "status": 200, "ready": True, "user_id": viewer.id}
        ws.send_json({"event_id": event["id"]})
        assert ws.receive_json()["result"] in ("card", "nothing")
    with client.websocket_connect("/v1/shake/socket") as ws:
        ws.send_json({"token": "not-a-token"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_the_socket_refuses_like_the_post_and_stays_open(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    host, viewer = enterprise(), new_user()
    event = gala(client, host, clock, win_permille=0)
    pool(client, host, event["id"], 200, [{"kind": "cash", "amount_fen": 100}])
    with client.websocket_connect("/v1/shake/socket", headers=viewer.headers) as ws:
        ws.send_json({"event_id": event["id"], "id": "early"})
        early = ws.receive_json()
        assert (early["id"], early["status"], early["problem"]["code"]) == ("early", 422, "round_not_active")
        clock.advance(minutes=6)
        codes = []
        for _ in range(6):  # 5 a second
            ws.send_json({"event_id": event["id"]})
            codes.append(ws.receive_json()["status"])
        assert codes == [200] * 5 + [429]
        ws.send_text("not json")
        assert ws.receive_json()["problem"]["code"] == "invalid_request"
        ws.send_json({"event_id": 99_999})
        assert ws.receive_json()["problem"]["code"] == "shake_event_not_found"


def test_one_address_shaking_past_its_limit_gets_a_cheap_refusal_before_any_read(hb: App, clock: FrozenClock) -> None:
    # given a process that allows 3 shakes a second from one address, and shakes of 4 users from it
    from hongbao.service.shake_limits import ShakeLimits

    hb.shake.rates = ShakeLimits(hb.shake.limits, address_second_max=3)
    reads: list[object] = []
    hb.store.read = lambda job: reads.append(job)  # type: ignore[assignment, method-assign, return-value]

    async def go() -> list[str]:
        out = []
        for user in range(1, 5):
            try:
                await hb.shake.shake(999, user, address="203.0.113.9")
            except Exception as exc:  # the refusal's code is what is asserted
                out.append(getattr(exc, "code", repr(exc)))
        return out

    # then the first three go on (to the event, which does not exist), the fourth is refused with nothing read
    codes = asyncio.run(go())
    assert codes[3] == "too_many_shakes" and len(reads) == 3
    clock.advance(seconds=1)
    assert asyncio.run(go())[0] != "too_many_shakes"


def test_the_socket_tells_the_page_how_many_prizes_are_left_and_how_fast_it_shakes(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    host, viewer = enterprise(), new_user()
    event = gala(client, host, clock)
    pool(client, host, event["id"], 1_000, [{"kind": "cash", "amount_fen": 100}])
    clock.advance(minutes=6)
    with client.websocket_connect("/v1/shake/socket", headers=viewer.headers) as ws:
        ws.send_json({"live": event["id"], "id": "l"})
        assert ws.receive_json()["live"]["prizes_left"] == 10
        for _ in range(2):
            ws.send_json({"event_id": event["id"]})
            assert ws.receive_json()["result"] == "cash"
        clock.advance(seconds=1)
        ws.send_json({"live": event["id"]})
        live = ws.receive_json()["live"]
    assert live == {"event_id": event["id"], "prizes_left": 8, "shakes_per_s": 2}


@pytest.mark.parametrize("token_in", ["header", "first message"])
def test_a_socket_whose_session_is_logged_out_or_expires_is_closed_at_its_next_shake(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User],
    token_in: str,
) -> None:  # fmt: skip
    # given a session on a socket: signed on SQLite (its signature checked once, its expiry and logout before every
    # message), first-format on PostgreSQL (checked whole each time): both are refused alike
    host, viewer, other = enterprise(), new_user("viewer"), new_user("other")
    signed = viewer.headers["Authorization"].removeprefix("Bearer ").startswith("v2.")
    assert signed == hb.settings.resolved_database_url().startswith("sqlite")
    event = gala(client, host, clock, win_permille=0)
    pool(client, host, event["id"], 200, [{"kind": "cash", "amount_fen": 100}])
    clock.advance(minutes=6)

    def opened(user_headers: dict[str, str]) -> Any:
        if token_in == "header":
            return client.websocket_connect("/v1/shake/socket", headers=user_headers)
        return client.websocket_connect("/v1/shake/socket")

    def ready(ws: Any, user_headers: dict[str, str]) -> None:
        if token_in == "first message":
            ws.send_json({"token": user_headers["Authorization"].removeprefix("Bearer ")})
            assert ws.receive_json()["ready"] is True

    with opened(viewer.headers) as ws:
        ready(ws, viewer.headers)
        ws.send_json({"event_id": event["id"]})
        assert ws.receive_json()["status"] == 200
        # when the session is logged out (elsewhere: another tab, the account page)
        assert client.delete("/v1/sessions/current", headers=viewer.headers).status_code in (200, 204)
        # then the next shake closes the socket as a bad token does
        ws.send_json({"event_id": event["id"]})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401
    # and a session that runs out on an open socket: refused from its expiry on
    with opened(other.headers) as ws:
        ready(ws, other.headers)
        ws.send_json({"event_id": event["id"]})
        assert ws.receive_json()["status"] == 200
        clock.advance(seconds=hb.settings.token_ttl_s + 1)
        ws.send_json({"event_id": event["id"]})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401
