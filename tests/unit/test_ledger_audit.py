"""The ledger audit: clean worlds pass, and every kind of corruption is named by its invariant."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hongbao.domain.ledger import (
    WORLD_ACCOUNT_ID,
    Account,
    AccountKind,
    ClaimFacts,
    PacketFacts,
    Transfer,
    TransferCode,
    audit,
)

ALICE, BOB, CAROL, DAVE = 100, 101, 102, 103
ALICE_WALLET, BOB_WALLET, CAROL_WALLET = 10, 11, 12
PACKET = 7
ESCROW = 20


@dataclass(frozen=True)
class World:
    accounts: tuple[Account, ...]
    transfers: tuple[Transfer, ...]
    packets: tuple[PacketFacts, ...]
    claims: tuple[ClaimFacts, ...]

    def invariants_broken(self) -> set[str]:
        return {v.invariant for v in audit(self.accounts, self.transfers, self.packets, self.claims)}

    def with_balance(self, account_id: int, balance_fen: int) -> World:
        accounts = tuple(
            replace(a, balance_fen=balance_fen) if a.id == account_id else a for a in self.accounts
        )
        return replace(self, accounts=accounts)

    def with_packet(self, **changes: Any) -> World:
        return replace(self, packets=(replace(self.packets[0], **changes),))


def expired_packet_world() -> World:
    """Alice tops up 10 yuan, sends 6 yuan in 3 shares; Bob and Carol open two; 2 yuan go back at expiry."""
    transfers = (
        Transfer(1, WORLD_ACCOUNT_ID, ALICE_WALLET, 1_000, TransferCode.TOPUP, "topup:1"),
        Transfer(2, ALICE_WALLET, ESCROW, 600, TransferCode.PACKET_FUND, f"packet:{PACKET}"),
        Transfer(3, ESCROW, BOB_WALLET, 250, TransferCode.PACKET_CLAIM, f"claim:{PACKET}:0"),
        Transfer(4, ESCROW, CAROL_WALLET, 150, TransferCode.PACKET_CLAIM, f"claim:{PACKET}:1"),
        Transfer(5, ESCROW, ALICE_WALLET, 200, TransferCode.PACKET_REFUND, f"refund:{PACKET}"),
    )
    accounts = (
        Account(WORLD_ACCOUNT_ID, AccountKind.WORLD, None, -1_000),
        Account(ALICE_WALLET, AccountKind.WALLET, ALICE, 1_000 - 600 + 200),
        Account(BOB_WALLET, AccountKind.WALLET, BOB, 250),
        Account(CAROL_WALLET, AccountKind.WALLET, CAROL, 150),
        Account(ESCROW, AccountKind.ESCROW, PACKET, 0),
    )
    packet = PacketFacts(
        id=PACKET,
        escrow_account_id=ESCROW,
        sender_id=ALICE,
        status="expired",
        total_fen=600,
        shares_count=3,
        share_amounts=(250, 150, 200),
        claimed_count=2,
        claimed_fen=400,
        refunded_fen=200,
    )
    claims = (ClaimFacts(PACKET, BOB, 0, 250), ClaimFacts(PACKET, CAROL, 1, 150))
    return World(accounts, transfers, (packet,), claims)


def test_a_clean_world_has_no_violations():
    # Given top-up, a funded packet, two claims and a refund at expiry, all recorded consistently
    world = expired_packet_world()

    # When it is audited
    violations = audit(world.accounts, world.transfers, world.packets, world.claims)

    # Then nothing is wrong
    assert violations == []


def test_an_empty_ledger_is_clean():
    assert audit([], [], [], []) == []


def test_a_cached_balance_off_by_one_fen_is_named():
    world = expired_packet_world().with_balance(ALICE_WALLET, 601)

    # One stored balance off also makes the stored balances stop summing to zero.
    assert world.invariants_broken() == {"cached-balance", "debits-equal-credits"}


def test_a_negative_wallet_is_named():
    # Given Bob withdraws 3 yuan while holding 2.50 (caches agree with the transfers)
    world = expired_packet_world()
    overdraft = Transfer(6, BOB_WALLET, WORLD_ACCOUNT_ID, 300, TransferCode.WITHDRAW, "withdraw:6")
    world = replace(world, transfers=(*world.transfers, overdraft))
    world = world.with_balance(BOB_WALLET, -50).with_balance(WORLD_ACCOUNT_ID, -700)

    # Then only the wallet going below zero is reported (the world account may be negative)
    assert world.invariants_broken() == {"non-negative"}


def test_a_share_paid_twice_is_named():
    # Given Dave is recorded as claiming share 0, which Bob already has
    world = expired_packet_world()
    world = replace(world, claims=(*world.claims, ClaimFacts(PACKET, DAVE, 0, 250)))

    broken = world.invariants_broken()

    # (no money moved for the extra claim, so the counters and claim transfers disagree too)
    assert "one-claim-per-share" in broken
    assert "one-claim-per-user" not in broken


def test_a_user_claiming_twice_is_named():
    # Given Bob is recorded as also claiming share 2, the one refunded
    world = expired_packet_world()
    world = replace(world, claims=(*world.claims, ClaimFacts(PACKET, BOB, 2, 200)))

    broken = world.invariants_broken()

    # (no money moved for the extra claim, so the counters and claim transfers disagree too)
    assert "one-claim-per-user" in broken
    assert "one-claim-per-share" not in broken


def test_a_refund_on_an_active_packet_is_named():
    world = expired_packet_world().with_packet(status="active")

    assert world.invariants_broken() == {"refund-only-at-expiry"}


def test_an_expired_packet_still_holding_money_is_named():
    # Given the refund never happened: 2 yuan stay in escrow after expiry
    world = expired_packet_world()
    world = replace(world, transfers=world.transfers[:-1]).with_packet(refunded_fen=0)
    world = world.with_balance(ALICE_WALLET, 400).with_balance(ESCROW, 200)

    assert world.invariants_broken() == {"escrow-empty-when-done"}


def test_a_finished_packet_still_holding_money_is_named():
    world = expired_packet_world()
    world = replace(world, transfers=world.transfers[:-1]).with_packet(refunded_fen=0, status="finished")
    world = world.with_balance(ALICE_WALLET, 400).with_balance(ESCROW, 200)

    assert "escrow-empty-when-done" in world.invariants_broken()


def test_shares_not_summing_to_the_total_are_named():
    world = expired_packet_world().with_packet(share_amounts=(250, 150, 201))

    assert world.invariants_broken() == {"shares-sum-to-total"}


def test_a_transfer_to_an_unknown_account_is_named():
    # Given a top-up credited to account 99, which does not exist
    world = expired_packet_world()
    stray = Transfer(6, WORLD_ACCOUNT_ID, 99, 5, TransferCode.TOPUP, "topup:6")
    world = replace(world, transfers=(*world.transfers, stray)).with_balance(WORLD_ACCOUNT_ID, -1_005)

    # Account 99 holds +5 that no stored balance shows, so the stored balances no longer sum to zero.
    assert world.invariants_broken() == {"known-accounts", "debits-equal-credits"}


# --- packets whose shares are drawn at open (no list kept): the claims must follow the split's rule --------------


def drawn_at_open(split: str, amounts: tuple[int, ...]) -> World:
    """The expired world's packet, its shares drawn at open: no share list, claims of `amounts` (two of three)."""
    world = expired_packet_world().with_packet(share_amounts=(), draw="open", split=split,
                                               claimed_fen=sum(amounts))
    claims = (ClaimFacts(PACKET, BOB, 0, amounts[0]), ClaimFacts(PACKET, CAROL, 1, amounts[1]))
    transfers = tuple(
        replace(t, amount_fen=amounts[int(t.ref.rsplit(":", 1)[1])]) if t.code is TransferCode.PACKET_CLAIM
        else replace(t, amount_fen=600 - sum(amounts)) if t.code is TransferCode.PACKET_REFUND else t
        for t in world.transfers
    )
    balances = {ALICE_WALLET: 1_000 - sum(amounts), BOB_WALLET: amounts[0], CAROL_WALLET: amounts[1]}
    accounts = tuple(replace(a, balance_fen=balances.get(a.id, a.balance_fen)) for a in world.accounts)
    return replace(world, claims=claims, transfers=transfers, accounts=accounts,
                   packets=(replace(world.packets[0], refunded_fen=600 - sum(amounts)),))


def test_claims_drawn_at_open_within_the_double_mean_bound_are_clean():
    # 600 fen in 3 shares: the first may be 1..399; then 600 − 250 = 350 in 2 shares: 1..349
    assert drawn_at_open("double_mean", (250, 150)).invariants_broken() == set()
    assert drawn_at_open("double_mean", (399, 200)).invariants_broken() == set()


def test_a_claim_drawn_at_open_above_the_double_mean_bound_is_named():
    assert drawn_at_open("double_mean", (400, 100)).invariants_broken() == {"claim-follows-split"}


def test_an_equal_claim_drawn_at_open_must_be_the_equal_share():
    assert drawn_at_open("equal", (200, 200)).invariants_broken() == set()
    assert drawn_at_open("equal", (250, 150)).invariants_broken() == {"claim-follows-split"}
