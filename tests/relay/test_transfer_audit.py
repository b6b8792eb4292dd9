"""The ledger audit checks every transfer escrow (转账): funded once, held while pending, released once."""

from __future__ import annotations

from hongbao.domain.ledger import (
    WORLD_ACCOUNT_ID,
    Account,
    AccountKind,
    Transfer,
    TransferCode,
    TransferOrderFacts,
    audit,
)

PAYER, PAYEE, ESCROW = 2, 3, 4


def _ledger(moves: list[tuple[int, int, int, TransferCode]]) -> tuple[list[Account], list[Transfer]]:
    transfers = [Transfer(1, WORLD_ACCOUNT_ID, PAYER, 1_000, TransferCode.TOPUP, "topup:1")]
    transfers += [Transfer(i + 2, d, c, a, code, "transfer:1") for i, (d, c, a, code) in enumerate(moves)]
    balance = {WORLD_ACCOUNT_ID: 0, PAYER: 0, PAYEE: 0, ESCROW: 0}
    for t in transfers:
        balance[t.debit_account_id] -= t.amount_fen
        balance[t.credit_account_id] += t.amount_fen
    kinds = {WORLD_ACCOUNT_ID: AccountKind.WORLD, PAYER: AccountKind.WALLET, PAYEE: AccountKind.WALLET,
             ESCROW: AccountKind.TRANSFER_ESCROW}
    accounts = [Account(i, kinds[i], None if i == 1 else i, b) for i, b in balance.items()]
    return accounts, transfers


def _invariants(status: str, moves: list[tuple[int, int, int, TransferCode]]) -> set[str]:
    accounts, transfers = _ledger(moves)
    order = TransferOrderFacts(1, ESCROW, 300, status)
    return {v.invariant for v in audit(accounts, transfers, [], [], transfer_orders=[order])}


SEND = (PAYER, ESCROW, 300, TransferCode.TRANSFER_SEND)


def test_transfer_audit_gives_no_violation_for_each_honest_outcome() -> None:
    assert _invariants("pending", [SEND]) == set()
    assert _invariants("accepted", [SEND, (ESCROW, PAYEE, 300, TransferCode.TRANSFER_ACCEPT)]) == set()
    assert _invariants("returned", [SEND, (ESCROW, PAYER, 300, TransferCode.TRANSFER_RETURN)]) == set()
    assert _invariants("refunded", [SEND, (ESCROW, PAYER, 300, TransferCode.TRANSFER_REFUND)]) == set()


def test_transfer_audit_gives_a_violation_when_settled_money_stays_in_escrow() -> None:
    assert "transfer-released-once" in _invariants("accepted", [SEND])


def test_transfer_audit_gives_a_violation_when_released_to_the_wrong_side() -> None:
    refunded_instead = (ESCROW, PAYER, 300, TransferCode.TRANSFER_REFUND)
    assert "transfer-released-once" in _invariants("accepted", [SEND, refunded_instead])


def test_transfer_audit_gives_a_violation_when_a_pending_transfer_was_paid_out() -> None:
    paid = (ESCROW, PAYEE, 300, TransferCode.TRANSFER_ACCEPT)
    assert "transfer-held-while-pending" in _invariants("pending", [SEND, paid])


def test_transfer_audit_gives_a_violation_when_funded_with_another_amount() -> None:
    accounts, transfers = _ledger([(PAYER, ESCROW, 200, TransferCode.TRANSFER_SEND)])
    found = {v.invariant for v in audit(accounts, transfers, [], [], [TransferOrderFacts(1, ESCROW, 300, "pending")])}
    assert "transfer-funded-once" in found


def test_transfer_audit_gives_a_violation_for_an_escrow_no_transfer_owns() -> None:
    accounts, transfers = _ledger([SEND])
    assert "transfer-escrow-owned" in {v.invariant for v in audit(accounts, transfers, [], [])}
