"""Top-ups and withdrawals over HTTP: replies keep their fields and add where the payment stands; a payment channel
that does not answer gives a 503 problem, and the scheduler's sweep books what the channel took."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.conftest import TestClient, User, assert_problem, balance, sign_up, statement, top_up
from tests.conftest import FrozenClock, fast_settings
from tests.service.flaky_channel import FlakyChannel, after_the_grace_period

from hongbao.api.app import create_app
from hongbao.bootstrap import App, build
from hongbao.service.reconcile import reconcile


def test_top_up_and_withdrawal_replies_say_where_the_payment_stands(client: TestClient) -> None:
    alice = sign_up(client, "alice")

    topped = top_up(client, alice, 5_000)
    withdrawn = client.post("/v1/wallet/withdrawals", json={"amount_fen": 1_200}, headers=alice.headers)

    assert set(topped) == {"payment_id", "amount_fen", "channel", "balance_fen", "status"}
    assert (topped["amount_fen"], topped["balance_fen"], topped["status"]) == (5_000, 5_000, "booked")
    assert withdrawn.status_code == 201, withdrawn.text
    assert (withdrawn.json()["balance_fen"], withdrawn.json()["status"]) == (3_800, "sent")


@pytest.fixture
def flaky_client(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[tuple[TestClient, App, FlakyChannel]]:
    channel = FlakyChannel()
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, channel=channel)
    try:
        with TestClient(create_app(app, scheduler=False)) as test_client:
            yield test_client, app, channel
        assert reconcile(app.store).violations == []
    finally:
        app.close()


def test_a_top_up_whose_channel_answer_is_lost_is_a_503_problem_and_the_sweep_credits_it_once(
    flaky_client: tuple[TestClient, App, FlakyChannel], clock: FrozenClock
) -> None:
    client, app, channel = flaky_client
    alice: User = sign_up(client, "alice")
    channel.charges_answer_lost = 1

    lost = client.post("/v1/wallet/top-ups", json={"amount_fen": 800}, headers=alice.headers)

    assert_problem(lost, 503, "channel_unavailable")
    assert balance(client, alice) == 0
    after_the_grace_period(clock)
    assert asyncio.run(app.wallet.settle_due_payments()) == 1
    assert balance(client, alice) == 800
    assert [e["kind"] for e in statement(client, alice)] == ["top_up"]


def test_a_withdrawal_whose_payout_gets_no_answer_answers_pending_and_is_sent_by_the_sweep(
    flaky_client: tuple[TestClient, App, FlakyChannel], clock: FrozenClock
) -> None:
    client, app, channel = flaky_client
    alice = sign_up(client, "alice")
    top_up(client, alice, 2_000)
    channel.payouts_unanswered = 1

    pending = client.post("/v1/wallet/withdrawals", json={"amount_fen": 2_000}, headers=alice.headers)

    assert pending.status_code == 201, pending.text
    assert (pending.json()["status"], pending.json()["balance_fen"]) == ("pending", 0)
    after_the_grace_period(clock)
    assert asyncio.run(app.wallet.settle_due_payments()) == 1
    assert channel.paid_out_fen == 2_000
