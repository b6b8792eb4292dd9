"""The core journey over HTTP: sign up, top up, befriend, group, a lucky packet raced by 50 members, expiry refund."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from tests.api.conftest import (
    TestClient,
    User,
    assert_problem,
    balance,
    make_group,
    send_lucky,
    sign_up,
    statement,
    top_up,
)
from tests.conftest import FrozenClock

from hongbao.bootstrap import App
from hongbao.service.reconcile import reconcile

MEMBERS = 50
TOP_UP_FEN = 100_000


def _open_all_at_once(client: TestClient, packet_id: int, users: list[User]) -> list[httpx.Response]:
    """Every user opens the packet at the same moment, each from their own thread, through the app."""
    start = threading.Barrier(len(users))

    def open_one(user: User) -> httpx.Response:
        start.wait()
        response: httpx.Response = client.post(f"/v1/packets/{packet_id}/open", headers=user.headers)
        return response

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        return list(pool.map(open_one, users))


def test_lucky_packet_journey_gives_ten_claims_one_best_luck_and_an_exact_refund(
    client: TestClient, hb: App, clock: FrozenClock
) -> None:
    # Given a new user who tops up, befriends 50 people and makes a group of them.
    sender = sign_up(client, "sender")
    assert top_up(client, sender, TOP_UP_FEN)["balance_fen"] == TOP_UP_FEN
    members = [sign_up(client, f"member_{i:02d}") for i in range(MEMBERS)]
    group_id = make_group(client, sender, members)

    # When they send a lucky packet of 10 shares and all 50 members open it at once.
    lucky = send_lucky(client, sender, group_id, total_fen=8_888, shares_count=10)
    assert (lucky["kind"], lucky["split"], lucky["status"]) == ("group", "double_mean", "active")
    assert balance(client, sender) == TOP_UP_FEN - 8_888
    replies = _open_all_at_once(client, lucky["id"], members)

    # Then exactly 10 win, 40 are told it is exhausted, and the shares add up to the total.
    assert Counter(r.status_code for r in replies) == {200: 10, 409: 40}
    for refused in (r for r in replies if r.status_code == 409):
        assert_problem(refused, 409, "packet_exhausted")
    won = {m.id: r.json()["amount_fen"] for m, r in zip(members, replies, strict=True) if r.status_code == 200}
    assert sum(won.values()) == 8_888
    assert all(amount >= 1 for amount in won.values())
    for member in members:
        assert balance(client, member) == won.get(member.id, 0)

    # And the packet shows 10 claims and exactly one best luck: the largest, ties to the earlier claimer.
    detail = client.get(f"/v1/packets/{lucky['id']}", headers=members[0].headers)
    assert detail.status_code == 200, detail.text
    packet = detail.json()
    assert (packet["status"], packet["claimed_count"], packet["claimed_fen"]) == ("finished", 10, 8_888)
    claims = packet["claims"]
    assert {c["user_id"]: c["amount_fen"] for c in claims} == won
    best = [c for c in claims if c["best_luck"]]
    assert len(best) == 1
    largest = max(c["amount_fen"] for c in claims)
    assert best[0] == next(c for c in claims if c["amount_fen"] == largest)

    # When a second lucky packet of 5 shares is opened twice, and 25 hours pass.
    second = send_lucky(client, sender, group_id, total_fen=500, shares_count=5)
    openers = members[:2]
    opened = [client.post(f"/v1/packets/{second['id']}/open", headers=m.headers) for m in openers]
    assert [r.status_code for r in opened] == [200, 200]
    claimed = sum(r.json()["amount_fen"] for r in opened)
    remainder = 500 - claimed
    assert remainder >= 3  # three shares of at least 1 fen each were left
    clock.advance(hours=25)
    assert client.portal is not None
    assert client.portal.call(hb.packets.expire_due) == 1

    # Then the sender's statement shows a refund of exactly the remainder, and the balance adds up.
    entries = statement(client, sender)
    assert [(e["kind"], e["amount_fen"]) for e in entries] == [
        ("refunded", remainder), ("sent", -500), ("sent", -8_888), ("top_up", TOP_UP_FEN),
    ]
    assert balance(client, sender) == TOP_UP_FEN - 8_888 - 500 + remainder == sum(e["amount_fen"] for e in entries)
    expired = client.get(f"/v1/packets/{second['id']}", headers=sender.headers).json()
    assert (expired["status"], expired["claimed_fen"], expired["refunded_fen"]) == ("expired", claimed, remainder)

    # And nobody can open it any more, a second expiry refunds nothing, and the ledger reconciles.
    late = client.post(f"/v1/packets/{second['id']}/open", headers=members[3].headers)
    assert_problem(late, 422, "packet_expired")
    assert client.portal.call(hb.packets.expire_due) == 0
    assert reconcile(hb.store).violations == []
