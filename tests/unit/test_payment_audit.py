"""The ledger audit ties money crossing the platform's edge to its channel payments: a booked top-up is credited once,
a pending or failed one not at all, every withdrawal debit has one payment, nothing is settled twice."""

from __future__ import annotations

import pytest

from hongbao.domain.ledger import WORLD_ACCOUNT_ID, Account, AccountKind, PaymentFacts, Transfer, TransferCode, audit

ALICE, ALICE_WALLET, BOB, BOB_WALLET = 100, 10, 101, 11


def invariants(transfers: list[Transfer], payments: list[PaymentFacts]) -> set[str]:
    balance = {WORLD_ACCOUNT_ID: 0, ALICE_WALLET: 0, BOB_WALLET: 0}
    for t in transfers:
        balance[t.debit_account_id] -= t.amount_fen
        balance[t.credit_account_id] += t.amount_fen
    accounts = [
        Account(WORLD_ACCOUNT_ID, AccountKind.WORLD, None, balance[WORLD_ACCOUNT_ID]),
        Account(ALICE_WALLET, AccountKind.WALLET, ALICE, balance[ALICE_WALLET]),
        Account(BOB_WALLET, AccountKind.WALLET, BOB, balance[BOB_WALLET]),
    ]
    return {v.invariant for v in audit(accounts, transfers, [], [], payments=payments)}


def top_up(tid: int, pid: int, amount_fen: int = 1_000, wallet: int = ALICE_WALLET) -> Transfer:
    return Transfer(tid, WORLD_ACCOUNT_ID, wallet, amount_fen, TransferCode.TOPUP, f"topup:{pid}")


def withdrawal(tid: int, pid: int, amount_fen: int = 400) -> Transfer:
    return Transfer(tid, ALICE_WALLET, WORLD_ACCOUNT_ID, amount_fen, TransferCode.WITHDRAW, f"withdraw:{pid}")


def test_payments_settled_honestly_break_nothing() -> None:
    payments = [
        PaymentFacts(1, ALICE, "in", 1_000, "booked"),
        PaymentFacts(2, ALICE, "in", 5_000, "pending"),
        PaymentFacts(3, ALICE, "in", 700, "failed"),
        PaymentFacts(4, ALICE, "out", 400, "pending"),
        PaymentFacts(5, ALICE, "out", 300, "sent"),
    ]

    assert invariants([top_up(1, 1), withdrawal(2, 4), withdrawal(3, 5, 300)], payments) == set()


@pytest.mark.parametrize(
    ("transfers", "payment", "broken"),
    [
        ([], PaymentFacts(1, ALICE, "in", 1_000, "booked"), "payment-settled-once"),  # booked, never credited
        ([top_up(1, 1)], PaymentFacts(1, ALICE, "in", 1_000, "pending"), "payment-settled-once"),
        ([top_up(1, 1)], PaymentFacts(1, ALICE, "in", 1_000, "failed"), "payment-settled-once"),
        ([top_up(1, 1), top_up(2, 1)], PaymentFacts(1, ALICE, "in", 1_000, "booked"), "payment-settled-once"),
        ([top_up(1, 1)], PaymentFacts(1, ALICE, "in", 999, "booked"), "payment-matches-transfer"),
        ([top_up(1, 1, wallet=BOB_WALLET)], PaymentFacts(1, ALICE, "in", 1_000, "booked"), "payment-matches-transfer"),
        ([top_up(1, 1)], PaymentFacts(1, ALICE, "in", 1_000, "sent"), "payment-status"),
        ([top_up(1, 2)], PaymentFacts(1, ALICE, "in", 1_000, "failed"), "payment-recorded"),  # credit without payment
    ],
)
def test_a_top_up_credited_other_than_once_as_booked_is_named(
    transfers: list[Transfer], payment: PaymentFacts, broken: str
) -> None:
    assert broken in invariants(transfers, [payment])


def test_a_withdrawal_debit_without_its_payment_or_a_payment_without_its_debit_is_named() -> None:
    funded = [top_up(1, 1)]
    booked = PaymentFacts(1, ALICE, "in", 1_000, "booked")

    assert "payment-recorded" in invariants([*funded, withdrawal(2, 9)], [booked])
    assert "payment-settled-once" in invariants(funded, [booked, PaymentFacts(2, ALICE, "out", 400, "sent")])
    misnamed = PaymentFacts(2, ALICE, "out", 400, "booked")  # a withdrawal is never booked, it is sent
    assert "payment-status" in invariants([*funded, withdrawal(2, 2)], [booked, misnamed])


def test_without_payment_facts_the_edge_of_the_platform_is_not_checked() -> None:
    accounts = [
        Account(WORLD_ACCOUNT_ID, AccountKind.WORLD, None, -1_000),
        Account(ALICE_WALLET, AccountKind.WALLET, ALICE, 1_000),
    ]

    assert audit(accounts, [top_up(1, 1)], [], []) == []
