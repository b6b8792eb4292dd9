"""Red packets as use cases: send, grab, open, detail and expiry, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hongbao.bootstrap import App, build
from hongbao.domain.split import split_double_mean
from hongbao.service.reconcile import reconcile
from tests.conftest import FrozenClock, fast_settings
from tests.service.helpers import balance, befriend, refusal, register


def group_of(app: App, owner: int, *members: int) -> int:
    """A group owned by `owner` (who befriends every member first)."""
    befriend(app, owner, *members)
    return int(asyncio.run(app.social.create_group(owner, "family", list(members)))["id"])


def open_all(app: App, packet_id: int, users: list[int]) -> list[int]:
    """Open the packet by each user in turn; return the amounts."""

    async def go() -> list[int]:
        return [(await app.packets.open(packet_id, u))["amount_fen"] for u in users]

    return asyncio.run(go())


def packets_sent_by(app: App, user_id: int) -> list[Any]:
    return app.store.read_sync(lambda tx: tx.packets_where(sender_id=user_id))


@pytest.fixture
def seeded_app(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[Any]:
    """Build apps with a chosen rng; checks the ledger of each when the test ends."""
    apps: list[App] = []

    def make(rng: random.Random) -> App:
        app = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, rng=rng)
        apps.append(app)
        return app

    try:
        yield make
        for app in apps:
            assert reconcile(app.store).violations == []
    finally:
        for app in apps:
            app.close()


# ---------------------------------------------------------------------- personal packets


def test_a_personal_packet_is_opened_only_by_its_recipient(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    befriend(hb, alice, bob, carol)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_personal(alice, bob, 520, "给你"))

    assert refusal(hb.packets.open(packet["id"], alice)) == "not_eligible"
    assert refusal(hb.packets.open(packet["id"], carol)) == "not_eligible"
    opened = asyncio.run(hb.packets.open(packet["id"], bob))

    assert opened == {"packet_id": packet["id"], "amount_fen": 520}
    assert balance(hb, alice) == 480
    assert balance(hb, bob) == 520
    assert balance(hb, carol) == 0
    assert asyncio.run(hb.packets.detail(packet["id"], bob))["status"] == "finished"


def test_a_personal_packet_to_a_non_friend_gives_not_friends_and_keeps_the_money(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    asyncio.run(hb.wallet.top_up(alice, 1_000))

    assert refusal(hb.packets.send_personal(alice, bob, 520)) == "not_friends"
    assert refusal(hb.packets.send_personal(alice, alice, 520)) == "not_friends"

    assert balance(hb, alice) == 1_000
    assert packets_sent_by(hb, alice) == []


def test_another_users_personal_packet_does_not_exist_for_a_stranger(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    befriend(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_personal(alice, bob, 520))

    assert refusal(hb.packets.detail(packet["id"], carol)) == "packet_not_found"


# ---------------------------------------------------------------------- group packets


def test_an_equal_group_packet_gives_every_claimer_the_same_amount(hb: App) -> None:
    alice, *members = register(hb, "alice", "bob", "carol", "dave", "erin")
    group = group_of(hb, alice, *members)
    asyncio.run(hb.wallet.top_up(alice, 1_000))

    packet = asyncio.run(hb.packets.send_group(alice, group, how="equal", shares_count=4, amount_each_fen=88))
    amounts = open_all(hb, packet["id"], members)

    assert packet["total_fen"] == 88 * 4
    assert amounts == [88, 88, 88, 88]
    assert balance(hb, alice) == 1_000 - 88 * 4
    detail = asyncio.run(hb.packets.detail(packet["id"], alice))
    assert detail["status"] == "finished"
    assert not any(c["best_luck"] for c in detail["claims"])  # no best luck among equals


@pytest.mark.parametrize("how", ["double_mean", "line_cut"])
def test_a_lucky_packet_pays_out_its_total_and_marks_best_luck_once_finished(hb: App, how: str) -> None:
    alice, *members = register(hb, "alice", "bob", "carol", "dave", "erin", "fred")
    group = group_of(hb, alice, *members)
    asyncio.run(hb.wallet.top_up(alice, 10_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how=how, shares_count=5, total_fen=1_000))

    first_four = open_all(hb, packet["id"], members[:4])
    midway = asyncio.run(hb.packets.detail(packet["id"], alice))
    last = open_all(hb, packet["id"], members[4:])
    done = asyncio.run(hb.packets.detail(packet["id"], alice))

    amounts = first_four + last
    assert sum(amounts) == 1_000
    assert all(a >= 1 for a in amounts)
    assert not any(c["best_luck"] for c in midway["claims"])
    assert done["status"] == "finished"
    marked = [c for c in done["claims"] if c["best_luck"]]
    assert len(marked) == 1
    assert marked[0]["amount_fen"] == max(amounts)
    assert [balance(hb, m) for m in members] == amounts
    assert balance(hb, alice) == 9_000


def test_best_luck_among_equal_shares_goes_to_the_earliest_claimer(hb: App) -> None:
    alice, *members = register(hb, "alice", "bob", "carol", "dave")
    group = group_of(hb, alice, *members)
    asyncio.run(hb.wallet.top_up(alice, 100))
    # 3 fen in 3 shares: every share is 1 fen, whatever the draw.
    packet = asyncio.run(hb.packets.send_group(alice, group, how="line_cut", shares_count=3, total_fen=3))

    open_all(hb, packet["id"], members)

    claims = asyncio.run(hb.packets.detail(packet["id"], alice))["claims"]
    assert [c["amount_fen"] for c in claims] == [1, 1, 1]
    assert [c["best_luck"] for c in claims] == [True, False, False]
    assert claims[0]["user_id"] == members[0]


def _seed_with_a_later_tie() -> tuple[int, list[int]]:
    """A seed whose double-mean draw of 12 fen in 4 shares has its maximum twice, not first."""
    for seed in range(10_000):
        shares = split_double_mean(12, 4, random.Random(seed))
        top = max(shares)
        if shares.count(top) >= 2 and shares[0] != top:
            return seed, shares
    raise AssertionError("no seed gives a tie for best luck")


def test_best_luck_tied_between_two_claimers_goes_to_the_earlier(seeded_app: Any) -> None:
    seed, shares = _seed_with_a_later_tie()
    app: App = seeded_app(random.Random(seed))
    alice, *members = register(app, "alice", "bob", "carol", "dave", "erin")
    group = group_of(app, alice, *members)
    asyncio.run(app.wallet.top_up(alice, 100))
    packet = asyncio.run(app.packets.send_group(alice, group, how="double_mean", shares_count=4, total_fen=12))

    amounts = open_all(app, packet["id"], members)

    assert amounts == shares
    claims = asyncio.run(app.packets.detail(packet["id"], alice))["claims"]
    first_top = shares.index(max(shares))
    assert [c["best_luck"] for c in claims] == [i == first_top for i in range(4)]


def test_a_grab_moves_no_money(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    group = group_of(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=1, total_fen=300))

    grabbed = [asyncio.run(hb.packets.grab(packet["id"], bob)) for _ in range(3)]

    assert grabbed == [{"packet_id": packet["id"], "can_open": True}] * 3
    assert balance(hb, bob) == 0
    assert balance(hb, alice) == 700
    assert asyncio.run(hb.packets.detail(packet["id"], bob))["claimed_count"] == 0
    assert open_all(hb, packet["id"], [bob]) == [300]  # grabbing did not hold the share


def test_a_grab_by_a_non_member_gives_not_group_member(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    group = group_of(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="line_cut", shares_count=2, total_fen=100))

    assert refusal(hb.packets.grab(packet["id"], carol)) == "not_group_member"
    assert refusal(hb.packets.open(packet["id"], carol)) == "not_group_member"
    assert balance(hb, carol) == 0


def test_a_grab_of_an_unknown_packet_gives_packet_not_found(hb: App) -> None:
    (alice,) = register(hb, "alice")

    assert refusal(hb.packets.grab(424_242, alice)) == "packet_not_found"


def test_expired_is_told_before_not_a_member(hb: App, clock: FrozenClock) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    group = group_of(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="line_cut", shares_count=2, total_fen=100))

    clock.advance(hours=25)

    assert refusal(hb.packets.grab(packet["id"], carol)) == "packet_expired"


def test_already_claimed_is_told_before_exhausted(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    group = group_of(hb, alice, bob, carol)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=1, total_fen=100))
    open_all(hb, packet["id"], [bob])

    assert refusal(hb.packets.open(packet["id"], bob)) == "already_claimed"
    assert refusal(hb.packets.open(packet["id"], carol)) == "packet_exhausted"
    assert balance(hb, bob) == 100


def test_a_member_removed_after_the_send_can_no_longer_open(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    group = group_of(hb, alice, bob, carol)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=2, total_fen=200))
    asyncio.run(hb.packets.grab(packet["id"], bob))  # the gate now remembers the members

    asyncio.run(hb.social.remove_member(alice, group, bob))

    assert refusal(hb.packets.open(packet["id"], bob)) == "not_group_member"
    assert balance(hb, bob) == 0


def test_a_member_removed_behind_the_gates_back_can_no_longer_open(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    group = group_of(hb, alice, bob, carol)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=2, total_fen=200))
    asyncio.run(hb.packets.grab(packet["id"], bob))  # the gate now remembers bob as a member

    # Another process removes bob: this process's gate is not told and still lets him through.
    hb.store.write_sync(lambda tx: tx.remove_member(group, bob))

    assert refusal(hb.packets.open(packet["id"], bob)) == "not_group_member"
    assert balance(hb, bob) == 0
    assert open_all(hb, packet["id"], [carol])[0] >= 1


def test_sending_more_than_the_wallet_holds_gives_insufficient_funds_and_no_packet(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    group = group_of(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 500))

    assert (
        refusal(hb.packets.send_group(alice, group, how="line_cut", shares_count=2, total_fen=501))
        == "insufficient_funds"
    )
    assert refusal(hb.packets.send_personal(alice, bob, 501)) == "insufficient_funds"

    assert packets_sent_by(hb, alice) == []
    assert balance(hb, alice) == 500


def test_sending_to_a_group_you_are_not_in_gives_group_not_found(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    group = group_of(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(carol, 500))

    assert (
        refusal(hb.packets.send_group(carol, group, how="line_cut", shares_count=2, total_fen=100)) == "group_not_found"
    )
    assert balance(hb, carol) == 500


@pytest.mark.parametrize(
    ("shares_count", "total_fen", "greeting", "code"),
    [
        (0, 100, None, "invalid_share_count"),
        (101, 20_000, None, "invalid_share_count"),
        (10, 20_001, None, "amount_too_large"),
        (10, 9, None, "share_too_small"),
        (10, 100, "福" * 65, "invalid_greeting"),
        (10, 100, "bell\x07", "invalid_greeting"),
        (10, 0, None, "invalid_amount"),
        (10, 99.5, None, "invalid_amount"),
    ],
)
def test_a_packet_outside_the_limits_is_refused_with_its_code(
    hb: App, shares_count: int, total_fen: Any, greeting: str | None, code: str
) -> None:
    alice, bob = register(hb, "alice", "bob")
    group = group_of(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 50_000))

    sent = hb.packets.send_group(
        alice, group, how="double_mean", shares_count=shares_count, total_fen=total_fen, greeting=greeting
    )

    assert refusal(sent) == code
    assert packets_sent_by(hb, alice) == []
    assert balance(hb, alice) == 50_000


def test_a_packet_at_the_limits_is_accepted(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    group = group_of(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 50_000))

    packet = asyncio.run(
        hb.packets.send_group(alice, group, how="line_cut", shares_count=100, total_fen=20_000, greeting="福" * 64)
    )

    assert (packet["shares_count"], packet["total_fen"], packet["greeting"]) == (100, 20_000, "福" * 64)


def test_an_unknown_split_gives_invalid_split(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    group = group_of(hb, alice, bob)

    assert refusal(hb.packets.send_group(alice, group, how="random", shares_count=2, total_fen=10)) == "invalid_split"


# ---------------------------------------------------------------------- expiry


def test_expiry_refunds_the_remainder_to_the_sender_exactly_once(hb: App, clock: FrozenClock) -> None:
    alice, bob, carol, dave = register(hb, "alice", "bob", "carol", "dave")
    group = group_of(hb, alice, bob, carol, dave)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=4, total_fen=1_000))
    claimed = sum(open_all(hb, packet["id"], [bob, carol]))

    clock.advance(hours=25)
    first = asyncio.run(hb.packets.expire_due())
    second = asyncio.run(hb.packets.expire_due())

    assert (first, second) == (1, 0)
    assert balance(hb, alice) == 1_000 - claimed
    detail = asyncio.run(hb.packets.detail(packet["id"], alice))
    assert detail["status"] == "expired"
    assert detail["refunded_fen"] == 1_000 - claimed
    refunds = [e for e in asyncio.run(hb.wallet.statement(alice, None, 10))["entries"] if e["kind"] == "refunded"]
    assert [e["amount_fen"] for e in refunds] == [1_000 - claimed]
    assert refusal(hb.packets.open(packet["id"], dave)) == "packet_expired"


def test_a_packet_not_yet_due_is_not_expired(hb: App, clock: FrozenClock) -> None:
    alice, bob = register(hb, "alice", "bob")
    group = group_of(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="line_cut", shares_count=2, total_fen=100))

    clock.advance(hours=23, minutes=59)

    assert asyncio.run(hb.packets.expire_due()) == 0
    assert asyncio.run(hb.packets.detail(packet["id"], alice))["status"] == "active"
    assert balance(hb, alice) == 900


def test_an_exhausted_packet_refunds_nothing_at_expiry(hb: App, clock: FrozenClock) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    group = group_of(hb, alice, bob, carol)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_group(alice, group, how="line_cut", shares_count=2, total_fen=600))
    open_all(hb, packet["id"], [bob, carol])

    clock.advance(hours=25)

    assert asyncio.run(hb.packets.expire_due()) == 0
    detail = asyncio.run(hb.packets.detail(packet["id"], alice))
    assert (detail["status"], detail["refunded_fen"]) == ("finished", 0)
    assert balance(hb, alice) == 400


def test_an_unopened_personal_packet_is_refunded_in_full_at_expiry(hb: App, clock: FrozenClock) -> None:
    alice, bob = register(hb, "alice", "bob")
    befriend(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    packet = asyncio.run(hb.packets.send_personal(alice, bob, 666))

    clock.advance(hours=25)
    asyncio.run(hb.packets.expire_due())

    assert balance(hb, alice) == 1_000
    assert refusal(hb.packets.open(packet["id"], bob)) == "packet_expired"
