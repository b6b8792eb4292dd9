"""The double-entry ledger: accounts, immutable transfers, and every money invariant stated once.

An account's balance is Σ credits − Σ debits.  The outside world (`world`) is debited when money
enters the platform (top-up) and credited when it leaves (withdrawal), so the balances of all
accounts always sum to zero.  Stored balances are caches; `audit` recomputes them from transfers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class AccountKind(StrEnum):
    """What an account holds."""

    WORLD = "world"  # money outside the platform; its balance is minus everything inside
    WALLET = "wallet"  # a user's spendable money; never below zero
    ESCROW = "escrow"  # one per packet: money sent and not yet claimed or refunded


class TransferCode(StrEnum):
    """Why a transfer happened."""

    TOPUP = "topup"  # world → wallet, through a payment channel
    WITHDRAW = "withdraw"  # wallet → world
    PACKET_FUND = "packet_fund"  # sender's wallet → packet escrow
    PACKET_CLAIM = "packet_claim"  # escrow → claimer's wallet
    PACKET_REFUND = "packet_refund"  # escrow → sender's wallet, at expiry


WORLD_ACCOUNT_ID = 1


@dataclass(frozen=True)
class Account:
    id: int
    kind: AccountKind
    owner_id: int | None  # user id for a wallet, packet id for an escrow
    balance_fen: int  # cached; the truth is the transfers


@dataclass(frozen=True)
class Transfer:
    id: int
    debit_account_id: int
    credit_account_id: int
    amount_fen: int
    code: TransferCode
    ref: str  # e.g. "packet:42", "claim:42:7", "topup:9"


@dataclass(frozen=True)
class PacketFacts:
    """What the ledger audit needs to know of one packet."""

    id: int
    escrow_account_id: int
    sender_id: int
    status: str  # "active", "finished" or "expired"
    total_fen: int
    shares_count: int
    share_amounts: tuple[int, ...]
    claimed_count: int
    claimed_fen: int
    refunded_fen: int


@dataclass(frozen=True)
class ClaimFacts:
    packet_id: int
    user_id: int
    seq: int
    amount_fen: int


@dataclass(frozen=True)
class Violation:
    """One broken invariant, readable by a person."""

    invariant: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.subject}: {self.detail}"


def computed_balances(transfers: Iterable[Transfer]) -> dict[int, int]:
    """Balance of every account that appears in a transfer, recomputed from scratch."""
    balance: dict[int, int] = defaultdict(int)
    for t in transfers:
        balance[t.debit_account_id] -= t.amount_fen
        balance[t.credit_account_id] += t.amount_fen
    return dict(balance)


def audit(
    accounts: Iterable[Account],
    transfers: Iterable[Transfer],
    packets: Iterable[PacketFacts],
    claims: Iterable[ClaimFacts],
) -> list[Violation]:
    """Check every invariant of DESIGN.md §2 (1–3); return each violation found, none when clean."""
    accounts = list(accounts)
    transfers = list(transfers)
    out: list[Violation] = []
    by_id = {a.id: a for a in accounts}

    # 1. Σ debits = Σ credits, and every account's balance = Σ of its transfers.
    for t in transfers:
        if t.amount_fen <= 0:
            out.append(Violation("positive-transfer", f"transfer {t.id}", f"amount {t.amount_fen} fen"))
        if t.debit_account_id == t.credit_account_id:
            out.append(Violation("distinct-accounts", f"transfer {t.id}", "debits and credits one account"))
        for side in (t.debit_account_id, t.credit_account_id):
            if side not in by_id:
                out.append(Violation("known-accounts", f"transfer {t.id}", f"unknown account {side}"))
    computed = computed_balances(transfers)
    # Every transfer debits what it credits, so the stored balances must also sum to zero.
    stored_sum = sum(a.balance_fen for a in accounts)
    if stored_sum != 0:
        out.append(Violation("debits-equal-credits", "ledger", f"stored balances sum to {stored_sum}"))
    for a in accounts:
        truth = computed.get(a.id, 0)
        if a.balance_fen != truth:
            out.append(
                Violation(
                    "cached-balance",
                    f"account {a.id} ({a.kind})",
                    f"stored {a.balance_fen}, transfers say {truth}",
                )
            )
        # 2. No user wallet (and no escrow) below zero.
        if a.kind is not AccountKind.WORLD and truth < 0:
            out.append(Violation("non-negative", f"account {a.id} ({a.kind})", f"balance {truth} fen"))

    # 3. Per packet.
    claims_by_packet: dict[int, list[ClaimFacts]] = defaultdict(list)
    for c in claims:
        claims_by_packet[c.packet_id].append(c)
    flows: dict[tuple[int, TransferCode], int] = defaultdict(int)
    for t in transfers:
        if t.code in (TransferCode.PACKET_FUND,):
            flows[(t.credit_account_id, t.code)] += t.amount_fen
        elif t.code in (TransferCode.PACKET_CLAIM, TransferCode.PACKET_REFUND):
            flows[(t.debit_account_id, t.code)] += t.amount_fen
    for p in packets:
        escrow_fen = computed.get(p.escrow_account_id, 0)
        out.extend(_audit_packet(p, claims_by_packet.get(p.id, []), flows, escrow_fen))
    return out


def _audit_packet(
    p: PacketFacts, claims: list[ClaimFacts], flows: dict[tuple[int, TransferCode], int], escrow_fen: int
) -> list[Violation]:
    subject = f"packet {p.id}"
    out: list[Violation] = []

    def bad(invariant: str, detail: str) -> None:
        out.append(Violation(invariant, subject, detail))

    if sum(p.share_amounts) != p.total_fen:
        bad("shares-sum-to-total", f"shares sum to {sum(p.share_amounts)}, total {p.total_fen}")
    if len(p.share_amounts) != p.shares_count:
        bad("share-count", f"{len(p.share_amounts)} shares drawn, {p.shares_count} promised")
    if any(a < 1 for a in p.share_amounts):
        bad("share-at-least-one-fen", f"shares {sorted(p.share_amounts)[:3]}…")
    if len(claims) > p.shares_count:
        bad("claims-within-shares", f"{len(claims)} claims for {p.shares_count} shares")
    users = [c.user_id for c in claims]
    if len(set(users)) != len(users):
        bad("one-claim-per-user", "a user claimed more than once")
    seqs = [c.seq for c in claims]
    if len(set(seqs)) != len(seqs):
        bad("one-claim-per-share", "a share was paid twice")
    for c in claims:
        if not 0 <= c.seq < len(p.share_amounts) or p.share_amounts[c.seq] != c.amount_fen:
            bad("claim-matches-share", f"claim of user {c.user_id} seq {c.seq} paid {c.amount_fen}")
    claimed = sum(c.amount_fen for c in claims)
    if claimed != p.claimed_fen or len(claims) != p.claimed_count:
        bad(
            "packet-counters",
            f"stored {p.claimed_count} claims / {p.claimed_fen} fen, claims say {len(claims)} / {claimed}",
        )
    funded = flows.get((p.escrow_account_id, TransferCode.PACKET_FUND), 0)
    paid = flows.get((p.escrow_account_id, TransferCode.PACKET_CLAIM), 0)
    refunded = flows.get((p.escrow_account_id, TransferCode.PACKET_REFUND), 0)
    if funded != p.total_fen:
        bad("funded-once", f"escrow funded with {funded}, total {p.total_fen}")
    if paid != claimed:
        bad("claims-paid-once", f"claim transfers {paid}, claims {claimed}")
    if refunded != p.refunded_fen:
        bad("refund-recorded", f"refund transfers {refunded}, packet says {p.refunded_fen}")
    if paid + refunded + escrow_fen != p.total_fen:
        bad(
            "conservation",
            f"claimed {paid} + refunded {refunded} + escrow {escrow_fen} ≠ total {p.total_fen}",
        )
    if p.status in ("finished", "expired") and escrow_fen != 0:
        bad("escrow-empty-when-done", f"{p.status} packet still holds {escrow_fen} fen")
    if p.status == "finished" and p.claimed_count != p.shares_count:
        bad("finished-means-exhausted", f"{p.claimed_count} of {p.shares_count} shares claimed")
    if p.status == "active" and refunded:
        bad("refund-only-at-expiry", f"active packet refunded {refunded}")
    return out
