"""Reconcile: recompute every balance from the transfers and check every ledger invariant."""

from __future__ import annotations

from dataclasses import dataclass

from hongbao.domain.ledger import PaymentStatus, Violation, audit, computed_balances
from hongbao.domain.tickets import audit_tickets
from hongbao.service.ports import Store

__all__ = ["Report", "reconcile"]


@dataclass(frozen=True)
class Report:
    accounts: int
    transfers: int
    packets: int
    claims: int
    inside_fen: int  # money held inside the platform: minus the world account's balance
    violations: list[Violation]
    payments: int = 0  # top-ups and withdrawals recorded with the payment channel
    payments_pending: int = 0  # of which the channel's answer is not booked yet (the sweep finishes them)


def reconcile(store: Store) -> Report:
    """Read one consistent snapshot and audit it."""
    (accounts, transfers, packets, claims), orders, (campaigns, caps), payments, tickets = store.read_sync(
        lambda tx: (tx.audit_facts(), tx.transfer_order_facts(), tx.campaign_facts(), tx.payment_facts(),
                    tx.ticket_facts()),
        snapshot=True,
    )  # fmt: skip
    violations = audit(
        accounts, transfers, packets, claims, transfer_orders=orders, campaigns=campaigns, caps=caps,
        payments=payments,
    ) + audit_tickets(tickets)
    world = computed_balances(transfers).get(1, 0)
    pending = sum(1 for p in payments if p.status == PaymentStatus.PENDING)
    return Report(len(accounts), len(transfers), len(packets), len(claims), -world, violations, len(payments), pending)
