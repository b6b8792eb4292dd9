"""A retry racing its own first attempt, in the same process or another one: money moves once, both get one answer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hongbao.adapters.channel import SandboxChannel
from hongbao.adapters.sql.tx import SqlTx as Tx
from hongbao.bootstrap import App, build
from hongbao.domain.errors import HongbaoError
from hongbao.domain.packets import PacketKind, PacketView
from hongbao.service.audience import Audience, Claimant
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.reconcile import reconcile
from tests.conftest import FrozenClock, fast_settings
from tests.service.helpers import balance, befriend, register

BARRIER_TIMEOUT_S = 30


def outcome(result: object) -> object:
    """A result, with a refusal replaced by its code."""
    return result.code if isinstance(result, HongbaoError) else result


def attempt(call: Any) -> object:
    """Run one use case on a fresh event loop (as one API process would); return its reply or refusal code."""
    try:
        return asyncio.run(call)
    except HongbaoError as exc:
        return exc.code


class MeetingChannel(SandboxChannel):
    """The sandbox; once `meet()` is called, it answers the next two charges only when both are asking: both
    processes have then passed their check for a stored reply and neither has written (where a double charge hid)."""

    def __init__(self) -> None:
        super().__init__()
        self.both_asking: threading.Barrier | None = None

    def meet(self) -> None:
        self.both_asking = threading.Barrier(2, timeout=BARRIER_TIMEOUT_S)

    def charge(self, user_id: int, amount_fen: int, reference: str | None = None) -> str:
        if self.both_asking is not None:
            self.both_asking.wait()
        return super().charge(user_id, amount_fen, reference)


@pytest.fixture
def two_processes(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[tuple[App, App, MeetingChannel]]:
    """Two Apps on one database, as two API workers, talking to one payment service; the ledger is checked after."""
    channel = MeetingChannel()
    first = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, channel=channel)
    try:
        second = build(
            fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, channel=channel,
            migrate_schema=False,
        )
        try:
            yield first, second, channel
            assert reconcile(first.store).violations == []
        finally:
            second.close()
    finally:
        first.close()


def in_both(first: Any, second: Any) -> list[object]:
    """Run two calls at once, each in its own thread with its own event loop; return their outcomes in order."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(attempt, [first, second]))


# ---------------------------------------------------------------------- top-ups and withdrawals across processes


def test_a_top_up_replayed_in_two_processes_at_once_charges_the_card_once_and_credits_once(
    two_processes: tuple[App, App, MeetingChannel],
) -> None:
    one, two, channel = two_processes
    (alice,) = register(one, "alice")
    idem = IdempotencyKey.of(alice, "topup-1", "top-up", {"amount_fen": 1_000})

    # when both processes take the same request at once, each past its check for a stored reply
    channel.meet()
    replies = in_both(one.wallet.top_up(alice, 1_000, idem), two.wallet.top_up(alice, 1_000, idem))

    # then the channel took the money once, the ledger booked it once, and both answered the same
    assert isinstance(replies[0], dict) and replies[1] == replies[0]
    assert channel.charged_fen == 1_000
    assert balance(one, alice) == 1_000
    entries = asyncio.run(one.wallet.statement(alice, None, 10))["entries"]
    assert [(e["kind"], e["amount_fen"]) for e in entries] == [("top_up", 1_000)]
    assert reconcile(one.store).inside_fen == 1_000


def test_a_channel_reference_reused_for_another_amount_is_refused_and_charges_nothing() -> None:
    channel = SandboxChannel()
    first = channel.charge(7, 1_000, "hb-in-ref")

    assert channel.charge(7, 1_000, "hb-in-ref") == first
    with pytest.raises(HongbaoError) as info:
        channel.charge(7, 2_000, "hb-in-ref")
    assert info.value.code == "idempotency_key_reused"
    assert channel.charged_fen == 1_000
    assert channel.payout(7, 1_000, "hb-out-ref") == channel.payout(7, 1_000, "hb-out-ref")
    assert channel.paid_out_fen == 1_000


def test_a_withdrawal_replayed_in_two_processes_at_once_pays_out_once_and_debits_once(
    two_processes: tuple[App, App, MeetingChannel],
) -> None:
    one, two, channel = two_processes
    (alice,) = register(one, "alice")
    asyncio.run(one.wallet.top_up(alice, 5_000))
    idem = IdempotencyKey.of(alice, "withdraw-1", "withdraw", {"amount_fen": 4_000})
    both_ready = threading.Barrier(2, timeout=BARRIER_TIMEOUT_S)

    async def withdraw_from(app: App) -> dict[str, Any]:
        both_ready.wait()  # start together, so both are likely to pass their check for a stored reply
        return await app.wallet.withdraw(alice, 4_000, idem)

    replies = in_both(withdraw_from(one), withdraw_from(two))

    assert isinstance(replies[0], dict) and replies[1] == replies[0]
    assert channel.paid_out_fen == 4_000
    assert balance(one, alice) == 1_000
    kinds = [e["kind"] for e in asyncio.run(one.wallet.statement(alice, None, 10))["entries"]]
    assert kinds == ["withdrawal", "top_up"]


# ---------------------------------------------------------------------- opens retried while the first runs


@dataclass(frozen=True)
class Scene:
    """alice's lucky packet of 2 shares in her group with bob and carol."""

    packet: int
    group: int
    alice: int
    bob: int


def packet_for_bob(app: App) -> Scene:
    alice, bob, carol = register(app, "alice", "bob", "carol")
    befriend(app, alice, bob, carol)
    asyncio.run(app.wallet.top_up(alice, 1_000))
    group = int(asyncio.run(app.social.create_group(alice, "family", [bob, carol]))["id"])
    return Scene(send_lucky(app, alice, group, 500), group, alice, bob)


def send_lucky(app: App, sender: int, group: int, total_fen: int) -> int:
    packet = asyncio.run(app.packets.send_group(sender, group, how="double_mean", shares_count=2, total_fen=total_fen))
    return int(packet["id"])


def test_an_open_retried_while_its_first_attempt_runs_gets_the_same_share(hb: App) -> None:
    scene = packet_for_bob(hb)
    packet, alice, bob = scene.packet, scene.alice, scene.bob
    idem = IdempotencyKey.of(bob, "open-1", "open", packet)

    async def open_three_times_at_once() -> list[object]:
        tries = [hb.packets.open(packet, bob, idem) for _ in range(3)]
        return [outcome(r) for r in await asyncio.gather(*tries, return_exceptions=True)]

    # when the client's retries arrive while the first attempt is still in flight
    replies = asyncio.run(open_three_times_at_once())

    # then every one answers the first attempt's share (not already_claimed), and one share was paid
    assert isinstance(replies[0], dict) and replies == [replies[0]] * 3
    detail = asyncio.run(hb.packets.detail(packet, alice))
    assert [(c["user_id"], c["amount_fen"]) for c in detail["claims"]] == [(bob, replies[0]["amount_fen"])]
    assert balance(hb, bob) == replies[0]["amount_fen"]
    assert [e["kind"] for e in asyncio.run(hb.wallet.statement(bob, None, 10))["entries"]] == ["received"]


def test_a_key_retried_at_once_for_another_packet_is_refused_as_reused(hb: App) -> None:
    scene = packet_for_bob(hb)
    second = send_lucky(hb, scene.alice, scene.group, 100)
    first_try = IdempotencyKey.of(scene.bob, "open-1", "open", scene.packet)
    other_body = IdempotencyKey.of(scene.bob, "open-1", "open", second)

    async def both_at_once() -> list[object]:
        tries = [hb.packets.open(scene.packet, scene.bob, first_try), hb.packets.open(second, scene.bob, other_body)]
        return [outcome(r) for r in await asyncio.gather(*tries, return_exceptions=True)]

    opened, reused = asyncio.run(both_at_once())

    assert isinstance(opened, dict) and opened["packet_id"] == scene.packet
    assert reused == "idempotency_key_reused"
    assert asyncio.run(hb.packets.detail(second, scene.alice))["claims"] == []
    assert balance(hb, scene.bob) == opened["amount_fen"]


class Announcing:
    """The group audience, also saying when an open has reached the gate (past its check for a stored reply)
    and when it is inside its own write (past the write's own check for the key)."""

    def __init__(self, inner: Audience) -> None:
        self.inner = inner
        self.at_gate, self.in_write = threading.Event(), threading.Event()

    async def admits(self, view: PacketView, who: Claimant) -> bool:
        self.at_gate.set()
        return await self.inner.admits(view, who)

    def secret_ok(self, view: PacketView, who: Claimant) -> bool:
        return self.inner.secret_ok(view, who)

    def confirm(self, tx: Tx, view: PacketView, who: Claimant) -> None:
        self.in_write.set()
        self.inner.confirm(tx, view, who)


def test_an_open_retried_in_another_process_while_the_first_commits_gets_the_first_share(
    two_processes: tuple[App, App, MeetingChannel],
) -> None:
    one, two, _ = two_processes
    scene = packet_for_bob(one)
    packet, alice, bob = scene.packet, scene.alice, scene.bob
    idem = IdempotencyKey.of(bob, "open-1", "open", packet)
    retry = Announcing(two.packets.audience(PacketKind.GROUP))
    two.packets.register_audience(PacketKind.GROUP, retry)
    # Hold the first attempt's commit until the retry has looked for a stored reply and found none: on
    # PostgreSQL until the retry is inside its own write; on SQLite, whose one writer lock the first attempt
    # holds, the retry's write cannot begin before the commit, so until it reaches the gate.
    retry_ready = retry.at_gate if one.store.is_sqlite else retry.in_write
    holding = threading.Event()

    def hold_the_commit(tx: Tx, row: Any, claim: Any) -> None:
        # Inside the first attempt's transaction: its claim is made but not committed.
        holding.set()
        retry_ready.wait(BARRIER_TIMEOUT_S)

    one.deps.hooks.opened.append(hold_the_commit)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(attempt, one.packets.open(packet, bob, idem))
        assert holding.wait(BARRIER_TIMEOUT_S)
        # when the retry reaches the other process while the first attempt is committing
        retried = attempt(two.packets.open(packet, bob, idem))
        replied = first.result()

    # then the retry answers the first attempt's share instead of already_claimed, and one share was paid
    assert retry_ready.is_set()
    assert isinstance(replied, dict) and retried == replied
    detail = asyncio.run(one.packets.detail(packet, alice))
    assert [(c["user_id"], c["amount_fen"]) for c in detail["claims"]] == [(bob, replied["amount_fen"])]
    assert balance(one, bob) == replied["amount_fen"]
