"""The atomic step of 拆 for a whole batch of opens at once: set-based statements, not a dozen per winner.

`open_shares` settles every open of one write batch, across any number of packets, with a fixed handful
of statements: the packets locked in id order (without waiting on PostgreSQL, tx_ledger.py), one read of the
claims already made and one of the shares to hand out, then one statement each over the rows for the packet
counters, the claims, the escrow debits, the wallet credits (summed per wallet, locked without waiting:
tx_ledger.py) and the transfers (hot.OverRows: an executemany on SQLite, one statement over arrays on PostgreSQL).
The statements are driver SQL written once (hot.py): no per-call compilation, no per-row processing.

What decides stays where it was: "one claim per user per packet" is the claims table's unique key (the
read before only answers the common case early; a claim slipping past it fails the insert, and the
writer then settles each open alone), a counter moves only from the value read under the lock, and
escrow never goes below zero.  Refusals come in the order of DESIGN.md §6:
packet_not_found → packet_expired → already_claimed → packet_exhausted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Connection

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.hot import ts
from hongbao.adapters.sql.locks import packets_nowait
from hongbao.adapters.sql.tx_ledger import DEBIT_ROWS, TRANSFER_ROWS
from hongbao.domain import errors
from hongbao.domain.errors import InvariantViolation, NotFound
from hongbao.domain.ledger import AccountKind, TransferCode
from hongbao.domain.packets import PacketStatus
from hongbao.domain.split import Rng, Split, double_mean_next, equal_share
from hongbao.service.ports import ShareWanted

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow

_CLAIM_CODE = TransferCode.PACKET_CLAIM.value
PACKET_COLUMNS = ", ".join(c.name for c in s.packets.columns)  # every column, as `select(packets)` reads

# Driver SQL (hot.py) over a list of parameter rows: executemany on SQLite, one statement over arrays on PostgreSQL.
_ADVANCE = hot.OverRows(
    "UPDATE packets SET claimed_count = ?, claimed_fen = claimed_fen + ?, status = ?, finished_at = ? "
    "WHERE id = ? AND claimed_count = ? AND status = ?",
    "UPDATE packets p SET claimed_count = v.claimed, claimed_fen = p.claimed_fen + v.fen, status = v.status, "
    f"finished_at = v.finished_at FROM {hot.unnest('int', 'bigint', 'text', 'timestamptz', 'bigint', 'int', 'text')} "
    "AS v(claimed, fen, status, finished_at, id, expected, was) "
    "WHERE p.id = v.id AND p.claimed_count = v.expected AND p.status = v.was",
)
_INSERT_CLAIMS = hot.insert_over_rows(
    "INSERT INTO claims (packet_id, seq, user_id, amount_fen, created_at) VALUES (?, ?, ?, ?, ?)",
    "bigint", "int", "bigint", "bigint", "timestamptz",
)


@dataclass(frozen=True)
class Opened:
    """A share taken: the claim, and the packet's row as it is right after it."""

    claim: ClaimRow
    row: PacketRow


def _row_after(before: PacketRow, claim: ClaimRow, fen_taken: int) -> PacketRow:
    """The packet row after `claim`, without reading it: `fen_taken` is what this batch took up to and with it."""
    from hongbao.adapters.sql.tx import PacketRow

    count = claim.seq + 1
    finished = count >= before.view.shares_count
    view = replace(before.view, status=PacketStatus.FINISHED) if finished else before.view
    # The constructor, not dataclasses.replace: this runs once per winner, and replace() costs five times more.
    return PacketRow(view, before.greeting, count, before.claimed_fen + fen_taken, before.refunded_fen,
                     before.escrow_account_id, before.created_at, claim.created_at if finished else before.finished_at,
                     before.draw)


class SettleTx:
    conn: Connection
    is_sqlite: bool
    batch_id: str | None
    held: set[int] | None  # LedgerTx's: None where nothing is checked
    job_packets: set[int]

    def credit_all(self, credits: list[tuple[int, int]]) -> None:  # LedgerTx's, which SqlTx mixes in first
        raise NotImplementedError

    def open_shares(self, wanted: list[ShareWanted], rng: Rng | None = None) -> list[Any]:
        """Take one share for each open that may have one, record the claims and pay them, all in a few statements.

        Answers, per open, an `Opened` (the claim, and the packet row as it is right after that claim: what the
        opened hooks are given) or the `HongbaoError` refusing it.  `rng` draws the shares drawn at open
        (None: the OS's CSPRNG)."""
        from hongbao.adapters.sql.tx import ClaimRow  # tx.py holds these rows and mixes this class in

        out: list[Any] = [None] * len(wanted)
        if not wanted:
            return out
        ids = sorted({w.packet_id for w in wanted})
        rows = self._lock_packets(ids)
        pairs = list({(w.packet_id, w.user_id) for w in wanted if w.packet_id in rows})
        claimed = self._claimed(pairs)
        wallets = self._wallet_ids(sorted({w.user_id for w in wanted}))

        hopefuls: dict[int, list[int]] = {pid: [] for pid in rows}
        first_try: dict[tuple[int, int], int] = {}  # the first open of each user on each packet in this batch
        again: list[tuple[int, int]] = []  # (a later open by the same user on the same packet, that first open)
        for i, w in enumerate(wanted):
            row = rows.get(w.packet_id)
            if row is None:
                out[i] = errors.packet_not_found()
            elif row.view.status is PacketStatus.EXPIRED or w.now >= row.view.expires_at:
                out[i] = errors.packet_expired()
            elif (w.packet_id, w.user_id) in claimed:
                out[i] = errors.already_claimed()
            elif (w.packet_id, w.user_id) in first_try:
                again.append((i, first_try[(w.packet_id, w.user_id)]))
            elif w.user_id not in wallets:
                out[i] = NotFound("No such wallet.", code="account_not_found")
            else:
                first_try[(w.packet_id, w.user_id)] = i
                hopefuls[w.packet_id].append(i)

        winners: dict[int, list[int]] = {}
        for pid, hopeful in hopefuls.items():
            row = rows[pid]
            left = row.view.shares_count - row.claimed_count if row.view.status is PacketStatus.ACTIVE else 0
            winners[pid] = hopeful[: max(left, 0)]
            for i in hopeful[len(winners[pid]):]:
                out[i] = errors.packet_exhausted()
        winners = {pid: won for pid, won in winners.items() if won}
        for i, first in again:  # as if it came after its first: refused as claimed if that won, else as that was
            out[i] = errors.already_claimed() if out[first] is None else errors.packet_exhausted()
        if not winners:
            return out

        amounts = self._amounts(rows, {pid: len(won) for pid, won in winners.items()}, rng)
        at = ts(self.conn)
        active, finished_status = PacketStatus.ACTIVE.value, PacketStatus.FINISHED.value
        advances, claims, debits, transfers = [], [], [], []
        credits: dict[int, int] = {}
        for pid, won in winners.items():
            row = rows[pid]
            count, fen = row.claimed_count, 0
            for i in won:
                w = wanted[i]
                amount = amounts[(pid, count)]
                claim = ClaimRow(pid, count, w.user_id, amount, w.now)
                out[i] = Opened(claim, _row_after(row, claim, fen + amount))
                wallet, stamp = wallets[w.user_id], at(w.now)
                claims.append((pid, count, w.user_id, amount, stamp))
                credits[wallet] = credits.get(wallet, 0) + amount
                transfers.append((row.escrow_account_id, wallet, amount, _CLAIM_CODE, f"claim:{pid}:{count}", stamp,
                                  w.write_id, self.batch_id))
                count, fen = count + 1, fen + amount
            finished = count >= row.view.shares_count
            advances.append((count, fen, finished_status if finished else active,
                             at(wanted[won[-1]].now) if finished else None, pid, row.claimed_count, active))
            debits.append((fen, row.escrow_account_id, fen))

        if hot.many(self.conn, _ADVANCE, advances) != len(advances):
            raise InvariantViolation("a packet's counter moved under its lock")
        hot.many(self.conn, _INSERT_CLAIMS, claims)  # the unique keys decide; a clash fails the whole settle
        if hot.many(self.conn, DEBIT_ROWS, debits) != len(debits):
            raise InvariantViolation("an escrow would go below zero")
        # Another writer holding a wallet sends these opens to the next batch, it is not waited for here (tx_ledger.py).
        # An escrow moves only under its packet's lock, held here.
        self.credit_all([(amt, acct) for acct, amt in sorted(credits.items())])
        hot.many(self.conn, TRANSFER_ROWS, transfers)
        return out

    def _lock_packets(self, ids: list[int]) -> dict[int, PacketRow]:
        """The packets' rows, locked in id order (SQLite's writer holds the whole database already)."""
        from hongbao.adapters.sql.tx import _packet_row

        # NO KEY UPDATE: what the counter update takes (it leaves other rows' foreign keys to the packet free).
        # PostgreSQL's writer waits for none mid-batch (tx_ledger.py): the batch locked its known ones up front.
        lock = "" if self.is_sqlite else " FOR NO KEY UPDATE" if self.held is None else " FOR NO KEY UPDATE NOWAIT"
        if self.held is not None:
            self.job_packets.update(ids)
        found: dict[int, PacketRow] = {}
        with packets_nowait(set(ids)):
            sql = f"SELECT {PACKET_COLUMNS} FROM packets WHERE id {{}} ORDER BY id{lock}"
            for r in hot.rows_in(self.conn, sql, ids):
                found[int(r.id)] = _packet_row(r, hot.stamp)
        return found

    def _claimed(self, pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
        return {(int(pid), int(uid)) for pid, uid in hot.rows_in_pairs(
            self.conn, "SELECT packet_id, user_id FROM claims WHERE {}", ("packet_id", "user_id"), pairs)}

    def _wallet_ids(self, user_ids: list[int]) -> dict[int, int]:
        return {int(owner): int(acct) for owner, acct in hot.rows_in(
            self.conn, "SELECT owner_id, id FROM accounts WHERE kind = ? AND owner_id {}", user_ids,
            [AccountKind.WALLET.value])}

    def _amounts(
        self, rows: dict[int, PacketRow], taken: dict[int, int], rng: Rng | None
    ) -> dict[tuple[int, int], int]:
        """The amount of each share the batch takes: `taken[pid]` shares of each packet, from its next seq on.

        Drawn now where the packet draws at open (from the amount and count left, read under its lock), else read
        from the shares drawn at send."""
        out: dict[tuple[int, int], int] = {}
        stored: list[tuple[int, int]] = []
        for pid, n in taken.items():
            row = rows[pid]
            seqs = range(row.claimed_count, row.claimed_count + n)
            if row.draw != "open":
                stored.extend((pid, k) for k in seqs)
                continue
            total, count, remaining = row.view.total_fen, row.view.shares_count, row.view.total_fen - row.claimed_fen
            for k in seqs:
                amount = (equal_share(total, count, k) if row.view.split is Split.EQUAL
                          else double_mean_next(remaining, count - k, rng))
                out[(pid, k)] = amount
                remaining -= amount
        if stored:
            out.update(self._drawn_at_send({pid: rows[pid].draw for pid, _ in stored}, stored))
        return out

    def _drawn_at_send(self, draws: dict[int, str], seqs: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
        from hongbao.adapters.sql.tx import unpack_shares

        found: dict[tuple[int, int], int] = {}
        in_rows = [(pid, k) for pid, k in seqs if draws[pid] == "rows"]
        if in_rows:  # packets sent before migration 0012
            ps = s.packet_shares
            found.update(
                ((r.packet_id, r.seq), int(r.amount_fen))
                for r in self.conn.execute(
                    select(ps.c.packet_id, ps.c.seq, ps.c.amount_fen)
                    .where(tuple_(ps.c.packet_id, ps.c.seq).in_(in_rows))
                )
            )
        blocks = sorted({(pid, k // s.SHARE_BLOCK) for pid, k in seqs if draws[pid] == "packed"})
        if blocks:
            b = s.packet_share_blocks
            for r in self.conn.execute(select(b).where(tuple_(b.c.packet_id, b.c.block).in_(blocks))):
                first = r.block * s.SHARE_BLOCK
                found.update(((r.packet_id, first + i), a) for i, a in enumerate(unpack_shares(r.amounts)))
        missing = [key for key in seqs if key not in found]
        if missing:
            raise InvariantViolation(f"a packet is missing a share drawn at send: {missing[:3]}")
        return {key: found[key] for key in seqs}
