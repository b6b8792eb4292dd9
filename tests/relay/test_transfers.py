"""Transfers (转账) over HTTP and under races: accept, return, refund when not accepted in time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.domain.relay import TransferStatus
from hongbao.service.reconcile import reconcile
from tests.api.conftest import TestClient, User, assert_problem, balance, befriend, statement, top_up
from tests.conftest import FrozenClock

from .conftest import friends, people, run


def _pair(client: TestClient, new_user: Callable[..., User]) -> tuple[User, User]:
    payer, payee = new_user("payer"), new_user("payee")
    befriend(client, payer, payee)
    top_up(client, payer, 10_000)
    return payer, payee


def _send(client: TestClient, payer: User, payee: User, amount_fen: int, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/transfers", json={"to_user_id": payee.id, "amount_fen": amount_fen, **extra},
                           headers=payer.headers)
    assert response.status_code == 201, response.text
    sent: dict[str, Any] = response.json()
    return sent


def test_transfer_accepted_moves_the_money_to_the_friend_through_escrow(
    client: TestClient, new_user: Callable[..., User], hb: App
) -> None:
    # Given two friends; when one transfers 52.00 yuan with a note.
    payer, payee = _pair(client, new_user)
    sent = _send(client, payer, payee, 5_200, note="房租")
    # Then the money left the payer at once and waits in escrow, visible to both.
    assert (sent["status"], sent["note"], sent["direction"]) == ("pending", "房租", "sent")
    assert (balance(client, payer), balance(client, payee)) == (4_800, 0)
    assert reconcile(hb.store).violations == []
    listed = client.get("/v1/transfers", headers=payee.headers).json()["transfers"]
    assert [(t["id"], t["direction"]) for t in listed] == [(sent["id"], "received")]
    # When the friend accepts: the money is theirs, once.
    accepted = client.post(f"/v1/transfers/{sent['id']}/accept", headers=payee.headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert (balance(client, payer), balance(client, payee)) == (4_800, 5_200)
    assert_problem(client.post(f"/v1/transfers/{sent['id']}/accept", headers=payee.headers), 409, "transfer_settled")
    assert_problem(client.post(f"/v1/transfers/{sent['id']}/return", headers=payee.headers), 409, "transfer_settled")
    # And both statements show it.
    assert [e["kind"] for e in statement(client, payee)] == ["received"]
    assert [e["kind"] for e in statement(client, payer)][:1] == ["sent"]


def test_transfer_returned_gives_the_money_back_to_the_sender(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    payer, payee = _pair(client, new_user)
    sent = _send(client, payer, payee, 1_000)
    returned = client.post(f"/v1/transfers/{sent['id']}/return", headers=payee.headers)
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    assert (balance(client, payer), balance(client, payee)) == (10_000, 0)


def test_transfer_not_accepted_in_time_is_refunded_by_the_scheduler_once(
    client: TestClient, new_user: Callable[..., User], hb: App, clock: FrozenClock
) -> None:
    payer, payee = _pair(client, new_user)
    sent = _send(client, payer, payee, 1_000)
    clock.advance(hours=23, minutes=59)
    assert run(hb.transfers.refund_overdue_transfers()) == 0
    clock.advance(minutes=1)
    assert client.get(f"/v1/transfers/{sent['id']}", headers=payer.headers).json()["overdue"] is True
    assert_problem(client.post(f"/v1/transfers/{sent['id']}/accept", headers=payee.headers), 422, "transfer_expired")
    assert run(hb.transfers.refund_overdue_transfers()) == 1
    assert run(hb.transfers.refund_overdue_transfers()) == 0
    assert client.get(f"/v1/transfers/{sent['id']}", headers=payer.headers).json()["status"] == "refunded"
    assert (balance(client, payer), balance(client, payee)) == (10_000, 0)
    assert_problem(client.post(f"/v1/transfers/{sent['id']}/accept", headers=payee.headers), 409, "transfer_settled")


def test_transfer_refusals_give_stable_codes(client: TestClient, new_user: Callable[..., User]) -> None:
    payer, payee = _pair(client, new_user)
    stranger = new_user("stranger")
    cases = [
        ({"to_user_id": stranger.id, "amount_fen": 100}, 422, "not_friends"),
        ({"to_user_id": payer.id, "amount_fen": 100}, 422, "cannot_transfer_to_self"),
        ({"to_user_id": 999_999, "amount_fen": 100}, 404, "user_not_found"),
        ({"to_user_id": payee.id, "amount_fen": 0}, 422, "invalid_amount"),
        ({"to_user_id": payee.id, "amount_fen": 5_000_001}, 422, "amount_too_large"),
        ({"to_user_id": payee.id, "amount_fen": 10_001}, 422, "insufficient_funds"),
        ({"to_user_id": payee.id, "amount_fen": 100, "note": "\x00"}, 422, "invalid_note"),
        ({"to_user_id": payee.id, "amount_fen": 1.5}, 422, "invalid_request"),
    ]
    for body, status, code in cases:
        assert_problem(client.post("/v1/transfers", json=body, headers=payer.headers), status, code, case=body)
    sent = _send(client, payer, payee, 100)
    assert_problem(client.get(f"/v1/transfers/{sent['id']}", headers=stranger.headers), 404, "transfer_not_found")
    assert_problem(client.post(f"/v1/transfers/{sent['id']}/accept", headers=stranger.headers), 404,
                   "transfer_not_found")
    assert_problem(client.post(f"/v1/transfers/{sent['id']}/accept", headers=payer.headers), 403,
                   "not_transfer_recipient")
    assert_problem(client.post(f"/v1/transfers/{sent['id']}/return", headers=payer.headers), 403,
                   "not_transfer_recipient")


def test_transfer_send_and_accept_are_idempotent(client: TestClient, new_user: Callable[..., User]) -> None:
    payer, payee = _pair(client, new_user)
    body = {"to_user_id": payee.id, "amount_fen": 700}
    headers = {**payer.headers, "Idempotency-Key": "rent-2026-02"}
    first, again = (client.post("/v1/transfers", json=body, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert balance(client, payer) == 10_000 - 700
    assert_problem(client.post("/v1/transfers", json={**body, "amount_fen": 800}, headers=headers), 409,
                   "idempotency_key_reused")
    key = {**payee.headers, "Idempotency-Key": "take-it"}
    replies = [client.post(f"/v1/transfers/{first.json()['id']}/accept", headers=key) for _ in range(2)]
    assert [r.status_code for r in replies] == [200, 200] and replies[0].json() == replies[1].json()
    assert balance(client, payee) == 700


def test_accept_racing_the_refund_has_exactly_one_outcome(hb: App, clock: FrozenClock) -> None:
    # Given many pending transfers whose deadline is just reached while their recipient accepts.
    payer, payee = people(hb, "payer", "payee")
    friends(hb, payer, payee)
    rounds = 20

    async def race(i: int) -> tuple[str, str]:
        sent = await hb.transfers.send(payer, payee, 100)
        deadline = clock.now() + timedelta(hours=24)
        async def accept() -> dict[str, Any]:
            if i % 2:  # give the refund's read a head start: both writes then meet in the writer's queue
                await hb.store.read(lambda tx: tx.transfer_order(sent["id"]))
            return await hb.transfers.accept(sent["id"], payee)  # at the clock's now: before the deadline

        refund = hb.transfers.refund_overdue_transfers(deadline)
        calls = [accept(), refund] if i % 2 == 0 else [refund, accept()]
        results = await asyncio.gather(*calls, return_exceptions=True)
        accepted = results[0 if i % 2 == 0 else 1]
        final = (await hb.transfers.detail(sent["id"], payer))["status"]
        if isinstance(accepted, HongbaoError):
            return accepted.code, final
        return ("accepted" if isinstance(accepted, dict) else repr(accepted)), final

    outcomes = [run(race(i)) for i in range(rounds)]
    # Then each transfer was either accepted (and not refunded) or refunded (and the accept refused).
    assert set(outcomes) <= {("accepted", "accepted"), ("transfer_settled", "refunded")}, outcomes
    finals = Counter(final for _, final in outcomes)
    paid = finals[TransferStatus.ACCEPTED.value] * 100
    assert run(hb.wallet.balance(payee)) == 100_000 + paid
    assert run(hb.wallet.balance(payer)) == 100_000 - paid
    assert reconcile(hb.store).violations == []


def test_accept_racing_the_refund_at_the_store_has_exactly_one_outcome(hb: App, clock: FrozenClock) -> None:
    # The two conditional UPDATEs themselves, racing from two threads, many times.
    payer, payee = people(hb, "payer", "payee")
    friends(hb, payer, payee)
    import threading

    ids = [run(hb.transfers.send(payer, payee, 10))["id"] for _ in range(30)]
    before, after = clock.now(), clock.now() + timedelta(days=2)
    wins: list[tuple[int, str]] = []
    lock = threading.Lock()

    def settle(tid: int, to: TransferStatus, at: Any, start: threading.Barrier) -> None:
        start.wait()
        if hb.store.write_sync(lambda tx: tx.settle_transfer_order(tid, to, at)):
            with lock:
                wins.append((tid, to.value))

    for tid in ids:
        start = threading.Barrier(2)
        threads = [threading.Thread(target=settle, args=(tid, TransferStatus.ACCEPTED, before, start)),
                   threading.Thread(target=settle, args=(tid, TransferStatus.REFUNDED, after, start))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(tid for tid, _ in wins) == ids
    accepted = sum(1 for _, status in wins if status == "accepted")
    assert run(hb.wallet.balance(payee)) == 100_000 + 10 * accepted
    assert reconcile(hb.store).violations == []
