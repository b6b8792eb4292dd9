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

from hongbao.domain.split import Split, double_mean_upper, equal_share


class AccountKind(StrEnum):
    """What an account holds."""

    WORLD = "world"  # money outside the platform; its balance is minus everything inside
    WALLET = "wallet"  # a user's spendable money; never below zero
    ESCROW = "escrow"  # one per packet: money sent and not yet claimed or refunded
    BUDGET = "budget"  # one per campaign or shake pool: funded by its owner, paid out to claimers
    TRANSFER_ESCROW = "transfer_escrow"  # one per 转账: money sent to a friend, not yet accepted or returned


class TransferCode(StrEnum):
    """Why a transfer happened."""

    TOPUP = "topup"  # world → wallet, through a payment channel
    WITHDRAW = "withdraw"  # wallet → world
    PACKET_FUND = "packet_fund"  # sender's wallet → packet escrow
    PACKET_CLAIM = "packet_claim"  # escrow → claimer's wallet
    PACKET_REFUND = "packet_refund"  # escrow → sender's wallet, at expiry
    CAMPAIGN_FUND = "campaign_fund"  # enterprise's wallet → campaign (or shake pool) budget
    CAMPAIGN_TOPUP = "campaign_topup"  # enterprise's wallet → budget, more money while the campaign is active
    CAMPAIGN_PAYOUT = "campaign_payout"  # budget → claimer's wallet (a cash prize)
    CAMPAIGN_RETURN = "campaign_return"  # budget → enterprise's wallet, the unspent rest at the end
    TRANSFER_SEND = "transfer_send"  # sender's wallet → transfer escrow (转账)
    TRANSFER_ACCEPT = "transfer_accept"  # transfer escrow → recipient's wallet
    TRANSFER_RETURN = "transfer_return"  # transfer escrow → sender's wallet, the recipient sent it back
    TRANSFER_REFUND = "transfer_refund"  # transfer escrow → sender's wallet, not accepted in time


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
    # The store's write (one request's effect) and the write batch that booked it; None where not recorded.
    write_id: str | None = None
    batch_id: str | None = None


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
    # "rows"/"packed": `share_amounts` were drawn at send; "open": each share is drawn when it is taken, so
    # `share_amounts` is empty and the claims are checked against `split`'s rule instead.
    draw: str = "rows"
    split: str = "double_mean"


@dataclass(frozen=True)
class ClaimFacts:
    packet_id: int
    user_id: int
    seq: int
    amount_fen: int


@dataclass(frozen=True)
class TransferOrderFacts:
    """What the ledger audit needs to know of one 转账 (a direct transfer to a friend)."""

    id: int
    escrow_account_id: int
    amount_fen: int
    status: str  # "pending", "accepted", "returned" or "refunded"


@dataclass(frozen=True)
class CampaignFacts:
    """What the ledger audit needs to know of one campaign budget (an enterprise campaign or a shake pool)."""

    id: int
    budget_account_id: int
    status: str  # "active" or "closed"
    budget_fen: int  # the first funding plus every top-up
    paid_fen: int  # stored counter
    returned_fen: int
    cash_claims_fen: tuple[int, ...]  # the amount of every cash claim recorded


class PaymentStatus(StrEnum):
    """Where a payment through the channel stands: recorded before the channel is asked, settled once."""

    PENDING = "pending"  # recorded; the channel may or may not have moved the money yet
    BOOKED = "booked"  # top-up: the channel took the money and the wallet was credited, once
    FAILED = "failed"  # top-up: the channel declined it or never saw it; nothing was credited
    SENT = "sent"  # withdrawal: the channel paid it out (the wallet was debited when it was recorded)


@dataclass(frozen=True)
class PaymentFacts:
    """What the ledger audit needs to know of one payment through the channel (a top-up or a withdrawal)."""

    id: int
    user_id: int
    direction: str  # "in" (top-up) or "out" (withdrawal)
    amount_fen: int
    status: str


@dataclass(frozen=True)
class CapFacts:
    """A per-user cap and how often it was used (e.g. claims of one user on one campaign and day)."""

    subject: str
    limit: int
    count: int


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


def _writes_applied_twice(transfers: list[Transfer]) -> list[Violation]:
    """One write (one request's effect, however often the writer had to try it) commits in one batch.  Its
    transfers found in two batches mean the effect happened twice: a retry after a COMMIT that had succeeded."""
    batches: dict[str, dict[str, list[int]]] = {}
    for t in transfers:
        if t.write_id is not None and t.batch_id is not None:
            batches.setdefault(t.write_id, {}).setdefault(t.batch_id, []).append(t.id)
    out: list[Violation] = []
    for write_id, by_batch in batches.items():
        if len(by_batch) > 1:
            ids = sorted(i for group in by_batch.values() for i in group)
            out.append(Violation("write-once", f"write {write_id}", f"took effect in {len(by_batch)} batches "
                                 f"(transfers {ids})"))
    return out


def audit(
    accounts: Iterable[Account],
    transfers: Iterable[Transfer],
    packets: Iterable[PacketFacts],
    claims: Iterable[ClaimFacts],
    transfer_orders: Iterable[TransferOrderFacts] = (),
    campaigns: Iterable[CampaignFacts] = (),
    caps: Iterable[CapFacts] = (),
    payments: Iterable[PaymentFacts] | None = None,
) -> list[Violation]:
    """Check every invariant of DESIGN.md §2 (1–3); return each violation found, none when clean.

    `payments`: the top-ups and withdrawals recorded with the channel; None leaves the edge of the platform
    unchecked (a ledger built by hand, in unit tests, has transfers from the world without them)."""
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
    out.extend(_writes_applied_twice(transfers))
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
    out.extend(_audit_transfer_orders(accounts, transfers, computed, list(transfer_orders)))
    out.extend(_audit_campaigns(accounts, transfers, computed, list(campaigns)))
    out.extend(
        Violation("per-user-cap", c.subject, f"{c.count} claims, cap {c.limit}") for c in caps if c.count > c.limit
    )
    if payments is not None:
        out.extend(_audit_payments(accounts, transfers, list(payments)))
    return out


# A payment's direction: the transfer it books, the side of that transfer its wallet is on, and its statuses.
_PAYMENT_DIRECTIONS = {
    "in": (TransferCode.TOPUP, "topup", {PaymentStatus.PENDING, PaymentStatus.BOOKED, PaymentStatus.FAILED}),
    "out": (TransferCode.WITHDRAW, "withdraw", {PaymentStatus.PENDING, PaymentStatus.SENT}),
}


def _audit_payments(
    accounts: list[Account], transfers: list[Transfer], payments: list[PaymentFacts]
) -> list[Violation]:
    """5. Money crosses the platform's edge only with a payment: a booked top-up is credited exactly once and a
    pending or failed one not at all; every withdrawal debits its wallet exactly once; each of those transfers has
    its payment, of its amount and its user's wallet (none settled twice, none without a payment)."""
    out: list[Violation] = []
    wallets = {a.owner_id: a.id for a in accounts if a.kind is AccountKind.WALLET}
    moved: dict[tuple[TransferCode, str], list[Transfer]] = defaultdict(list)
    for t in transfers:
        if t.code in (TransferCode.TOPUP, TransferCode.WITHDRAW):
            moved[(t.code, t.ref)].append(t)
    known: set[tuple[TransferCode, str]] = set()
    for p in payments:
        subject = f"payment {p.id} ({p.direction})"
        if p.direction not in _PAYMENT_DIRECTIONS:
            out.append(Violation("payment-direction", subject, f"unknown direction {p.direction!r}"))
            continue
        code, prefix, statuses = _PAYMENT_DIRECTIONS[p.direction]
        if p.status not in statuses:
            out.append(Violation("payment-status", subject, f"status {p.status!r}"))
        known.add((code, f"{prefix}:{p.id}"))
        booked = moved.get((code, f"{prefix}:{p.id}"), [])
        # A withdrawal is debited when it is recorded; a top-up is credited when the channel confirms it.
        want = 1 if p.direction == "out" or p.status == PaymentStatus.BOOKED else 0
        if len(booked) != want:
            out.append(Violation("payment-settled-once", subject, f"{p.status}: {len(booked)} {code} transfer(s)"))
        for t in booked:
            wallet = t.credit_account_id if p.direction == "in" else t.debit_account_id
            if t.amount_fen != p.amount_fen or wallet != wallets.get(p.user_id):
                detail = f"transfer {t.id} moves {t.amount_fen} fen for account {wallet}"
                out.append(Violation("payment-matches-transfer", subject, f"{detail}, payment {p.amount_fen} fen"))
    for (code, ref), booked in moved.items():
        if (code, ref) not in known:
            out.append(Violation("payment-recorded", f"transfer {booked[0].id}", f"{code} {ref} has no payment"))
    return out


def _audit_campaigns(
    accounts: list[Account], transfers: list[Transfer], computed: dict[int, int], campaigns: list[CampaignFacts]
) -> list[Violation]:
    """4. A campaign never pays out more than its budget: funded once, plus its top-ups, is the budget;
    paid = Σ cash claims; paid + returned + held = budget; closed → budget account empty; every budget
    account belongs to a known campaign."""
    out: list[Violation] = []
    flows: dict[tuple[int, TransferCode], int] = defaultdict(int)
    funds: dict[int, int] = defaultdict(int)
    for t in transfers:
        if t.code is TransferCode.CAMPAIGN_FUND:
            funds[t.credit_account_id] += 1
        if t.code in (TransferCode.CAMPAIGN_FUND, TransferCode.CAMPAIGN_TOPUP):
            flows[(t.credit_account_id, t.code)] += t.amount_fen
        elif t.code in (TransferCode.CAMPAIGN_PAYOUT, TransferCode.CAMPAIGN_RETURN):
            flows[(t.debit_account_id, t.code)] += t.amount_fen
    known = {c.budget_account_id for c in campaigns}
    for a in accounts:
        if a.kind is AccountKind.BUDGET and a.id not in known:
            out.append(Violation("budget-owned", f"account {a.id}", "no campaign holds this budget"))
    for c in campaigns:
        subject = f"campaign {c.id}"
        held = computed.get(c.budget_account_id, 0)
        first = flows.get((c.budget_account_id, TransferCode.CAMPAIGN_FUND), 0)
        topped = flows.get((c.budget_account_id, TransferCode.CAMPAIGN_TOPUP), 0)
        funded = first + topped
        paid = flows.get((c.budget_account_id, TransferCode.CAMPAIGN_PAYOUT), 0)
        returned = flows.get((c.budget_account_id, TransferCode.CAMPAIGN_RETURN), 0)
        claimed = sum(c.cash_claims_fen)
        if funded != c.budget_fen or funds.get(c.budget_account_id, 0) > 1:
            detail = f"funded {first} in {funds.get(c.budget_account_id, 0)} transfer(s) + topped up {topped}"
            out.append(Violation("budget-funded-once", subject, f"{detail}, budget {c.budget_fen}"))
        if paid + returned > c.budget_fen:
            out.append(Violation("within-budget", subject, f"paid {paid} + returned {returned} > {c.budget_fen}"))
        if not paid == claimed == c.paid_fen:
            detail = f"paid {paid}, claims {claimed}, counter {c.paid_fen}"
            out.append(Violation("payouts-match-claims", subject, detail))
        if returned != c.returned_fen:
            out.append(Violation("return-recorded", subject, f"returned {returned}, counter {c.returned_fen}"))
        if paid + returned + held != funded:
            out.append(Violation("budget-conservation", subject, f"paid {paid} + returned {returned} + held {held}"))
        if c.status == "closed" and held != 0:
            out.append(Violation("budget-empty-when-closed", subject, f"closed campaign still holds {held} fen"))
        if c.status != "closed" and returned:
            out.append(Violation("return-only-at-close", subject, f"active campaign returned {returned}"))
    return out


_RELEASE_BY_STATUS = {
    "accepted": TransferCode.TRANSFER_ACCEPT,
    "returned": TransferCode.TRANSFER_RETURN,
    "refunded": TransferCode.TRANSFER_REFUND,
}


def _audit_transfer_orders(
    accounts: list[Account], transfers: list[Transfer], computed: dict[int, int], orders: list[TransferOrderFacts]
) -> list[Violation]:
    """Per 转账: funded once with its amount; pending → escrow holds it all; settled → escrow empty,
    released once to the side its status names; every transfer escrow belongs to a known transfer."""
    out: list[Violation] = []
    flows: dict[tuple[int, TransferCode], int] = defaultdict(int)
    for t in transfers:
        if t.code is TransferCode.TRANSFER_SEND:
            flows[(t.credit_account_id, t.code)] += t.amount_fen
        elif t.code in (TransferCode.TRANSFER_ACCEPT, TransferCode.TRANSFER_RETURN, TransferCode.TRANSFER_REFUND):
            flows[(t.debit_account_id, t.code)] += t.amount_fen
    known = {o.escrow_account_id for o in orders}
    for a in accounts:
        if a.kind is AccountKind.TRANSFER_ESCROW and a.id not in known:
            out.append(Violation("transfer-escrow-owned", f"account {a.id}", "no transfer holds this escrow"))
    for o in orders:
        subject = f"transfer order {o.id}"
        escrow_fen = computed.get(o.escrow_account_id, 0)
        funded = flows.get((o.escrow_account_id, TransferCode.TRANSFER_SEND), 0)
        released = {code: flows.get((o.escrow_account_id, code), 0) for code in _RELEASE_BY_STATUS.values()}
        if funded != o.amount_fen:
            out.append(Violation("transfer-funded-once", subject, f"escrow funded {funded}, amount {o.amount_fen}"))
        if funded - sum(released.values()) != escrow_fen:
            out.append(Violation("transfer-conservation", subject, f"funded {funded}, released {released}"))
        expected = _RELEASE_BY_STATUS.get(o.status)
        if expected is None:
            if escrow_fen != o.amount_fen or any(released.values()):
                out.append(Violation("transfer-held-while-pending", subject, f"escrow {escrow_fen}"))
        elif escrow_fen != 0 or released[expected] != o.amount_fen or sum(released.values()) != o.amount_fen:
            out.append(
                Violation("transfer-released-once", subject, f"{o.status}: escrow {escrow_fen}, released {released}")
            )
    return out


def _audit_packet(
    p: PacketFacts, claims: list[ClaimFacts], flows: dict[tuple[int, TransferCode], int], escrow_fen: int
) -> list[Violation]:
    subject = f"packet {p.id}"
    out: list[Violation] = []

    def bad(invariant: str, detail: str) -> None:
        out.append(Violation(invariant, subject, detail))

    if p.draw != "open":
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
    if p.draw == "open":
        for c in _off_rule(p, claims):
            bad("claim-follows-split", f"claim of user {c.user_id} seq {c.seq} paid {c.amount_fen}")
    for c in claims if p.draw != "open" else ():
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


def _off_rule(p: PacketFacts, claims: list[ClaimFacts]) -> list[ClaimFacts]:
    """The claims of a packet drawn at open that its split could not have drawn, taken in seq order.

    Claims must hold seqs 0..n−1; an equal share is exactly `equal_share`; a double-mean share is within
    [1, the bound `double_mean_next` draws under] given what the earlier claims left, and the last takes the rest."""
    off: list[ClaimFacts] = []
    remaining = p.total_fen
    for k, c in enumerate(sorted(claims, key=lambda c: c.seq)):
        left = p.shares_count - k
        if c.seq != k or left < 1:
            ok = False
        elif p.split == Split.EQUAL.value:
            ok = c.amount_fen == equal_share(p.total_fen, p.shares_count, k)
        elif left == 1:
            ok = c.amount_fen == remaining
        else:
            ok = 1 <= c.amount_fen <= double_mean_upper(remaining, left)
        if not ok:
            off.append(c)
        remaining -= c.amount_fen
    return off
