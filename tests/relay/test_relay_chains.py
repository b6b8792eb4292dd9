"""Relay chains (接龙) over HTTP: rounds, the best-luck claimer's turn, minimum, deadline, expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hongbao.bootstrap import App
from tests.api.conftest import TestClient, User, assert_problem, balance, make_group, top_up
from tests.conftest import FrozenClock

from .conftest import run


def _family(client: TestClient, new_user: Callable[..., User]) -> tuple[list[User], int]:
    users = [new_user("relay") for _ in range(4)]
    for u in users:
        top_up(client, u, 10_000)
    return users, make_group(client, users[0], users[1:])


def _start(client: TestClient, starter: User, group_id: int, **extra: Any) -> dict[str, Any]:
    body = {"group_id": group_id, "total_fen": 1_000, "shares_count": 3, "greeting": "接龙开始", **extra}
    response = client.post("/v1/relays", json=body, headers=starter.headers)
    assert response.status_code == 201, response.text
    chain: dict[str, Any] = response.json()
    return chain


def _open_all(client: TestClient, packet_id: int, users: list[User]) -> None:
    for u in users:
        response = client.post(f"/v1/packets/{packet_id}/open", headers=u.headers)
        assert response.status_code == 200, response.text


def _chain(client: TestClient, chain_id: int, viewer: User) -> dict[str, Any]:
    response = client.get(f"/v1/relays/{chain_id}", headers=viewer.headers)
    assert response.status_code == 200, response.text
    chain: dict[str, Any] = response.json()
    return chain


def _best_luck_user(client: TestClient, packet_id: int, viewer: User) -> int:
    packet = client.get(f"/v1/packets/{packet_id}", headers=viewer.headers).json()
    best = [c["user_id"] for c in packet["claims"] if c["best_luck"]]
    assert len(best) == 1, packet
    return int(best[0])


def test_relay_chain_gives_the_next_round_to_the_best_luck_claimer_and_keeps_its_history(
    client: TestClient, new_user: Callable[..., User], hb: App, clock: FrozenClock
) -> None:
    # Given a group of four and a chain started by the first with a 2-yuan minimum.
    users, group_id = _family(client, new_user)
    starter, others = users[0], users[1:]
    chain = _start(client, starter, group_id, min_fen=200)
    assert (chain["status"], chain["rounds_count"], chain["min_fen"], chain["deadline_s"]) == ("active", 1, 200, 3600)
    first_packet = chain["rounds"][0]["packet_id"]
    assert chain["current_packet"]["kind"] == "relay"
    assert balance(client, starter) == 10_000 - 1_000

    # When the three others open round 1 and every share is gone.
    _open_all(client, first_packet, others)

    # Then the best-luck claimer owes round 2, with a deadline one hour after the last claim.
    chain = _chain(client, chain["id"], starter)
    owing_id = _best_luck_user(client, first_packet, starter)
    assert chain["owed_by"] == owing_id == chain["rounds"][0]["best_luck_user_id"]
    assert chain["due_at"] == (clock.now() + timedelta(hours=1)).isoformat()
    owing = next(u for u in users if u.id == owing_id)
    not_owing = next(u for u in users if u.id != owing_id)

    # And only the owing user may send it, at or above the minimum.
    body = {"total_fen": 300, "shares_count": 3, "greeting": "第二棒"}
    assert_problem(client.post(f"/v1/relays/{chain['id']}/next", json=body, headers=not_owing.headers), 403,
                   "not_your_turn")
    assert_problem(
        client.post(f"/v1/relays/{chain['id']}/next", json={**body, "total_fen": 199}, headers=owing.headers),
        422, "below_relay_minimum",
    )
    sent = client.post(f"/v1/relays/{chain['id']}/next", json=body, headers=owing.headers)
    assert sent.status_code == 201, sent.text
    chain = sent.json()
    assert [r["round"] for r in chain["rounds"]] == [1, 2]
    assert [(r["sender_id"], r["total_fen"]) for r in chain["rounds"]] == [(starter.id, 1_000), (owing.id, 300)]
    assert chain["owed_by"] is None and chain["current_packet"]["id"] == chain["rounds"][1]["packet_id"]
    assert [e["kind"] for e in chain["events"]] == ["round_started", "owed", "round_started"]
    listed = client.get(f"/v1/groups/{group_id}/relays", headers=not_owing.headers).json()["relays"]
    assert [(c["id"], c["rounds_count"], c["current_packet_id"]) for c in listed] == [
        (chain["id"], 2, chain["rounds"][1]["packet_id"])
    ]
    # A second send of the same round is not their turn any more.
    assert_problem(client.post(f"/v1/relays/{chain['id']}/next", json=body, headers=owing.headers), 403,
                   "not_your_turn")


def test_relay_deadline_passed_ends_the_chain_with_a_notice_once(
    client: TestClient, new_user: Callable[..., User], hb: App, clock: FrozenClock
) -> None:
    # Given a finished round 1 and its best-luck claimer owing round 2 within 10 minutes.
    users, group_id = _family(client, new_user)
    chain = _start(client, users[0], group_id, deadline_s=600)
    _open_all(client, chain["rounds"][0]["packet_id"], users[1:])
    owing_id = _chain(client, chain["id"], users[0])["owed_by"]
    owing = next(u for u in users if u.id == owing_id)

    # When 10 minutes pass: sending is refused even before the scheduler runs.
    clock.advance(seconds=600)
    body = {"total_fen": 300, "shares_count": 3}
    assert_problem(client.post(f"/v1/relays/{chain['id']}/next", json=body, headers=owing.headers), 422,
                   "relay_deadline_passed")

    # Then the relay-deadline pass ends the chain exactly once.
    assert run(hb.relay.end_overdue_chains()) == 1
    assert run(hb.relay.end_overdue_chains()) == 0
    ended = _chain(client, chain["id"], owing)
    assert (ended["status"], ended["ended_reason"], ended["missed_by"], ended["owed_by"]) == (
        "ended", "deadline_missed", owing.id, None
    )
    assert ended["events"][-1]["kind"] == "ended" and ended["events"][-1]["user_id"] == owing.id
    # And the group's conversation tells everyone.
    conversation = client.post("/v1/conversations", json={"group_id": group_id}, headers=owing.headers).json()
    page = client.get(f"/v1/conversations/{conversation['id']}/messages", headers=owing.headers).json()
    notices = [m["text"] for m in page["messages"] if m["type"] == "system"]
    assert "missed the deadline" in notices[0] and any("owes round 2" in n for n in notices)
    assert_problem(client.post(f"/v1/relays/{chain['id']}/next", json=body, headers=owing.headers), 422,
                   "relay_deadline_passed")
    bystander = next(u for u in users if u.id != owing.id)
    assert_problem(client.post(f"/v1/relays/{chain['id']}/next", json=body, headers=bystander.headers), 409,
                   "relay_ended")


def test_relay_round_expiring_unfinished_ends_the_chain_and_refunds_the_sender(
    client: TestClient, new_user: Callable[..., User], hb: App, clock: FrozenClock
) -> None:
    users, group_id = _family(client, new_user)
    chain = _start(client, users[0], group_id)
    _open_all(client, chain["rounds"][0]["packet_id"], users[1:2])
    claimed = client.get(f"/v1/packets/{chain['rounds'][0]['packet_id']}", headers=users[0].headers).json()
    clock.advance(hours=25)
    assert run(hb.packets.expire_due()) == 1
    ended = _chain(client, chain["id"], users[0])
    assert (ended["status"], ended["ended_reason"], ended["owed_by"]) == ("ended", "round_expired", None)
    assert balance(client, users[0]) == 10_000 - claimed["claimed_fen"]
    assert run(hb.relay.end_overdue_chains()) == 0


def test_relay_refusals_give_stable_codes(client: TestClient, new_user: Callable[..., User]) -> None:
    users, group_id = _family(client, new_user)
    outsider = new_user("outsider")
    top_up(client, outsider, 10_000)
    base = {"group_id": group_id, "total_fen": 1_000, "shares_count": 3}
    cases = [
        (outsider, base, 404, "group_not_found"),
        (users[0], {**base, "min_fen": 2_000}, 422, "below_relay_minimum"),
        (users[0], {**base, "total_fen": 99}, 422, "below_relay_minimum"),  # the default minimum is 100 fen
        (users[0], {**base, "deadline_s": 5}, 422, "invalid_deadline"),
        (users[0], {**base, "total_fen": 20_000}, 422, "insufficient_funds"),
        (users[0], {**base, "shares_count": 0}, 422, "invalid_share_count"),
        (users[0], {**base, "total_fen": "1000"}, 422, "invalid_request"),
    ]
    for who, body, status, code in cases:
        assert_problem(client.post("/v1/relays", json=body, headers=who.headers), status, code, case=body)
    chain = _start(client, users[0], group_id)
    assert_problem(client.get(f"/v1/relays/{chain['id']}", headers=outsider.headers), 404, "relay_not_found")
    assert_problem(client.get("/v1/relays/999999", headers=users[0].headers), 404, "relay_not_found")
    assert_problem(client.get(f"/v1/groups/{group_id}/relays", headers=outsider.headers), 404, "group_not_found")
    next_body = {"total_fen": 300, "shares_count": 3}
    assert_problem(client.post(f"/v1/relays/{chain['id']}/next", json=next_body, headers=outsider.headers), 404,
                   "relay_not_found")
    # While round 1 is still running, nobody owes round 2 yet.
    assert_problem(client.post(f"/v1/relays/{chain['id']}/next", json=next_body, headers=users[0].headers), 403,
                   "not_your_turn")


def test_relay_start_and_next_are_idempotent(client: TestClient, new_user: Callable[..., User]) -> None:
    users, group_id = _family(client, new_user)
    headers = {**users[0].headers, "Idempotency-Key": "relay-1"}
    body = {"group_id": group_id, "total_fen": 1_000, "shares_count": 3}
    first = client.post("/v1/relays", json=body, headers=headers)
    again = client.post("/v1/relays", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert balance(client, users[0]) == 10_000 - 1_000
    _open_all(client, first.json()["rounds"][0]["packet_id"], users[1:])
    owing_id = _chain(client, first.json()["id"], users[0])["owed_by"]
    owing = next(u for u in users if u.id == owing_id)
    before = balance(client, owing)
    key = {**owing.headers, "Idempotency-Key": "relay-next-1"}
    replies = [client.post(f"/v1/relays/{first.json()['id']}/next", json={"total_fen": 500, "shares_count": 2},
                           headers=key) for _ in range(2)]
    assert [r.status_code for r in replies] == [201, 201]
    assert replies[0].json()["rounds"] == replies[1].json()["rounds"]
    assert balance(client, owing) == before - 500
