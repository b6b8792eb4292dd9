"""The payment outbox, on SQLite and PostgreSQL: a top-up or withdrawal whose channel call fails, or whose process dies
right after the channel moved the money, is finished by the sweep exactly once, however many sweeps run at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hongbao.bootstrap import App, build
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.reconcile import reconcile
from tests.conftest import FrozenClock, fast_settings
from tests.service.flaky_channel import FlakyChannel, after_the_grace_period
from tests.service.helpers import balance, refusal, register


@pytest.fixture
def flaky(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[tuple[App, FlakyChannel]]:
    """The app talking to a FlakyChannel; checks the ledger when the test ends."""
    channel = FlakyChannel()
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, channel=channel)
    try:
        yield app, channel
        assert reconcile(app.store).violations == []
    finally:
        app.close()


@pytest.fixture
def two_processes(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[tuple[App, App, FlakyChannel]]:
    """Two Apps on one database (two API processes, each with its scheduler) and one payment service; the ledger is
    checked after."""
    channel = FlakyChannel()
    settings = fast_settings(database_url=store_url, data_dir=tmp_path)
    first = build(settings, clock=clock, channel=channel)
    try:
        second = build(settings, clock=clock, channel=channel, migrate_schema=False)
        try:
            yield first, second, channel
            assert reconcile(first.store).violations == []
        finally:
            second.close()
    finally:
        first.close()


def sweep(app: App) -> int:
    return asyncio.run(app.wallet.settle_due_payments())


def status_of(app: App, payment_id: int) -> str:
    payment = app.store.read_sync(lambda tx: tx.payment(payment_id))
    assert payment is not None
    return payment.status.value


def only_payment(app: App, user_id: int) -> int:
    """The id of the one channel payment of `user_id`."""
    def job(tx: Any) -> list[int]:
        return [p.id for p in tx.payment_facts() if p.user_id == user_id]

    (pid,) = app.store.read_sync(job)
    return pid


def kinds(app: App, user_id: int) -> list[str]:
    return [e["kind"] for e in asyncio.run(app.wallet.statement(user_id, None, 20))["entries"]]


# ---------------------------------------------------------------------- withdrawals


def test_a_payout_that_gets_no_answer_stays_pending_and_the_sweep_pays_it_out_once(
    flaky: tuple[App, FlakyChannel], clock: FrozenClock
) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    asyncio.run(app.wallet.top_up(alice, 5_000))
    channel.payouts_unanswered = 1

    # when the channel does not answer the payout
    reply = asyncio.run(app.wallet.withdraw(alice, 4_000))

    # then the withdrawal answers at once, debited and pending, and nothing was paid yet
    assert (reply["status"], reply["balance_fen"]) == ("pending", 1_000)
    assert channel.paid_out_fen == 0
    assert sweep(app) == 0  # a payment younger than the grace period may still be in its request's hands
    assert channel.paid_out_fen == 0

    # and once the grace period has passed, the sweep sends it again with the same reference: paid once, sent
    after_the_grace_period(clock)
    assert sweep(app) == 1
    assert channel.paid_out_fen == 4_000
    assert len(channel.payout_references) == 2 and len(set(channel.payout_references)) == 1
    assert status_of(app, reply["payment_id"]) == "sent"
    assert sweep(app) == 0
    assert channel.paid_out_fen == 4_000
    assert balance(app, alice) == 1_000
    assert kinds(app, alice) == ["withdrawal", "top_up"]


def test_a_keyed_withdrawal_retried_after_its_payout_got_no_answer_is_paid_out_by_the_retry_once(
    flaky: tuple[App, FlakyChannel], clock: FrozenClock
) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    asyncio.run(app.wallet.top_up(alice, 5_000))
    idem = IdempotencyKey.of(alice, "withdraw-1", "withdraw", {"amount_fen": 4_000})
    channel.payouts_unanswered = 1
    first = asyncio.run(app.wallet.withdraw(alice, 4_000, idem))

    retried = asyncio.run(app.wallet.withdraw(alice, 4_000, idem))

    assert first["status"] == "pending"
    assert retried == {**first, "status": "sent"}
    assert channel.paid_out_fen == 4_000
    assert balance(app, alice) == 1_000
    after_the_grace_period(clock)
    assert sweep(app) == 0
    assert asyncio.run(app.wallet.withdraw(alice, 4_000, idem)) == retried
    assert channel.paid_out_fen == 4_000


def test_a_withdrawal_the_channel_answers_is_sent_at_once(flaky: tuple[App, FlakyChannel]) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    asyncio.run(app.wallet.top_up(alice, 5_000))

    reply = asyncio.run(app.wallet.withdraw(alice, 1_500))

    assert (reply["status"], reply["balance_fen"]) == ("sent", 3_500)
    assert status_of(app, reply["payment_id"]) == "sent"
    assert channel.paid_out_fen == 1_500


# ---------------------------------------------------------------------- top-ups


def test_a_top_up_charged_whose_answer_was_lost_is_booked_exactly_once_by_the_sweep(
    flaky: tuple[App, FlakyChannel], clock: FrozenClock
) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    channel.charges_answer_lost = 1

    # when the channel takes the money and the process never hears back (as if it died right after the charge)
    assert refusal(app.wallet.top_up(alice, 1_000)) == "channel_unavailable"
    assert (channel.charged_fen, balance(app, alice)) == (1_000, 0)
    assert sweep(app) == 0

    # then the sweep asks the channel about the payment's reference and credits the wallet, once
    after_the_grace_period(clock)
    assert sweep(app) == 1
    assert sweep(app) == 0
    assert balance(app, alice) == 1_000
    assert channel.charged_fen == 1_000
    assert status_of(app, only_payment(app, alice)) == "booked"
    assert kinds(app, alice) == ["top_up"]


def test_a_keyed_top_up_retried_after_its_answer_was_lost_is_charged_and_credited_once(
    flaky: tuple[App, FlakyChannel], clock: FrozenClock
) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    idem = IdempotencyKey.of(alice, "topup-1", "top-up", {"amount_fen": 1_000})
    channel.charges_answer_lost = 1
    assert refusal(app.wallet.top_up(alice, 1_000, idem)) == "channel_unavailable"

    retried = asyncio.run(app.wallet.top_up(alice, 1_000, idem))

    assert (retried["status"], retried["balance_fen"]) == ("booked", 1_000)
    assert channel.charged_fen == 1_000
    after_the_grace_period(clock)
    assert sweep(app) == 0
    assert asyncio.run(app.wallet.top_up(alice, 1_000, idem)) == retried
    assert kinds(app, alice) == ["top_up"]


def test_a_keyed_top_up_retried_after_the_sweep_booked_it_is_not_charged_again(
    flaky: tuple[App, FlakyChannel], clock: FrozenClock
) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    idem = IdempotencyKey.of(alice, "topup-1", "top-up", {"amount_fen": 1_000})
    channel.charges_answer_lost = 1
    assert refusal(app.wallet.top_up(alice, 1_000, idem)) == "channel_unavailable"
    after_the_grace_period(clock)
    assert sweep(app) == 1
    channel.charges_unseen = 1  # a charge now would fail: the retry must not ask

    retried = asyncio.run(app.wallet.top_up(alice, 1_000, idem))

    assert (retried["status"], retried["balance_fen"]) == ("booked", 1_000)
    assert channel.charged_fen == 1_000
    assert kinds(app, alice) == ["top_up"]


def test_a_top_up_the_channel_never_saw_is_marked_failed_and_credits_nothing(
    flaky: tuple[App, FlakyChannel], clock: FrozenClock
) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    channel.charges_unseen = 1
    assert refusal(app.wallet.top_up(alice, 1_000)) == "channel_unavailable"
    pid = only_payment(app, alice)
    assert status_of(app, pid) == "pending"

    after_the_grace_period(clock)
    assert sweep(app) == 1

    assert status_of(app, pid) == "failed"
    assert (channel.charged_fen, balance(app, alice)) == (0, 0)
    assert sweep(app) == 0
    assert kinds(app, alice) == []


def test_a_keyed_top_up_retried_after_the_sweep_marked_it_failed_is_charged_and_credited_once(
    flaky: tuple[App, FlakyChannel], clock: FrozenClock
) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    idem = IdempotencyKey.of(alice, "topup-1", "top-up", {"amount_fen": 1_000})
    channel.charges_unseen = 1
    assert refusal(app.wallet.top_up(alice, 1_000, idem)) == "channel_unavailable"
    after_the_grace_period(clock)
    assert sweep(app) == 1

    retried = asyncio.run(app.wallet.top_up(alice, 1_000, idem))

    assert (retried["status"], retried["balance_fen"]) == ("booked", 1_000)
    assert status_of(app, retried["payment_id"]) == "booked"
    assert (channel.charged_fen, balance(app, alice)) == (1_000, 1_000)
    assert sweep(app) == 0


def test_a_declined_top_up_is_marked_failed_at_once_and_credits_nothing(
    flaky: tuple[App, FlakyChannel], clock: FrozenClock
) -> None:
    app, channel = flaky
    (alice,) = register(app, "alice")
    channel.decline_over_fen = 500

    assert refusal(app.wallet.top_up(alice, 600)) == "channel_declined"

    assert status_of(app, only_payment(app, alice)) == "failed"
    after_the_grace_period(clock)
    assert sweep(app) == 0
    assert (channel.charged_fen, balance(app, alice)) == (0, 0)


# ---------------------------------------------------------------------- two sweeps at once


def test_two_sweeps_racing_in_two_processes_settle_each_payment_once(
    two_processes: tuple[App, App, FlakyChannel], clock: FrozenClock
) -> None:
    one, two, channel = two_processes
    alice, bob, carol = register(one, "alice", "bob", "carol")
    asyncio.run(one.wallet.top_up(alice, 10_000))
    # given three withdrawals whose payouts got no answer, two top-ups charged whose answers were lost, and one
    # top-up the channel never saw
    channel.payouts_unanswered = 3
    withdrawals = [asyncio.run(one.wallet.withdraw(alice, amount)) for amount in (1_000, 2_000, 3_000)]
    channel.charges_answer_lost = 2
    for amount in (500, 700):
        assert refusal(one.wallet.top_up(bob, amount)) == "channel_unavailable"
    channel.charges_unseen = 1
    assert refusal(one.wallet.top_up(carol, 900)) == "channel_unavailable"
    after_the_grace_period(clock)
    sent_before = len(channel.payout_references)

    # when both processes' sweeps run at once, each having read the same pending payments
    channel.meet()
    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(sweep, [one, two]))

    # then both asked the channel about every payment, and each payment was settled once, by one of them
    assert sum(counts) == 6
    assert Counter(channel.payout_references[sent_before:]) == {r: 2 for r in channel.payout_references[:3]}
    assert channel.paid_out_fen == 6_000
    assert channel.charged_fen == 10_000 + 1_200
    assert (balance(one, alice), balance(one, bob), balance(one, carol)) == (4_000, 1_200, 0)
    assert [status_of(one, w["payment_id"]) for w in withdrawals] == ["sent"] * 3
    assert kinds(one, bob) == ["top_up", "top_up"]
    assert (sweep(one), sweep(two)) == (0, 0)
