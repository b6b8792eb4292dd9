"""Repository methods of the ledger: accounts, the atomic transfer, the wallet statement (mixed into SqlTx).

Account row locks on PostgreSQL, where several processes' writers share the rows: a batch never waits for an account
in the middle of its jobs, so two batches can never deadlock on accounts (A crediting wallets 5 then 9 while B
credits 9 then 5).  Waiting happens in one place only, before the batch's first job: the writer locks the accounts
its jobs are known to need, in id order (`lock_in_order`).  Any other account a job touches is locked with
NOWAIT as it goes, by the balance update itself (`_update`), or for the bulk settle's wallets by one NOWAIT select
of them all ahead of the one update over arrays (`credit_all`): if another transaction holds one, the job
is rolled back to its savepoint and raises `RowsBusy`, and the writer runs it again in its next batch, every
account it touched then locked up front (jobs.py).  SQLite has one writer: nothing to lock, nothing checked.

Packets the same way: the batch locks its known packets in id order before its accounts (one global order: packets,
then accounts), and a job locks any other packet with NOWAIT (the bulk settle's `SELECT … FOR NO KEY UPDATE NOWAIT`,
the expiry's UPDATE), raising `RowsBusy("packets", …)` when another transaction holds one.  NOWAIT on a packet this
transaction holds already does not fail, so packets need no `held` set.  Campaigns, prizes, coupon stock, groups,
relay chains and the per-user cap rows the same way (locks.py, which holds the scheme's pieces for every table).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.aware import utc
from hongbao.adapters.sql.locks import RowLocks, RowsBusy, lock_not_available, rows_nowait
from hongbao.domain import errors
from hongbao.domain.errors import Conflict, InvariantViolation, NotFound
from hongbao.domain.ledger import WORLD_ACCOUNT_ID, AccountKind, TransferCode

# Every money path runs these (sends, opens alone, transfers, top-ups, refunds, prizes): driver SQL (hot.py), no
# per-call compilation.  Measured with bench/send_rate.py, see BENCHMARKS.md.
_WALLET = AccountKind.WALLET.value
_WALLET_ID = "SELECT id FROM accounts WHERE kind = ? AND owner_id = ?"
DEBIT = "UPDATE accounts SET balance_fen = balance_fen - ? WHERE id = ? AND balance_fen >= ?"
_DEBIT_WORLD = "UPDATE accounts SET balance_fen = balance_fen - ? WHERE id = ?"  # the world mints: it may go below 0
CREDIT = "UPDATE accounts SET balance_fen = balance_fen + ? WHERE id = ?"
INSERT_TRANSFER = (
    "INSERT INTO transfers (debit_account_id, credit_account_id, amount_fen, code, ref, created_at, write_id, "
    "batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# The same over many rows (hot.OverRows), the bulk settle's (tx_settle.py, credit_all): one statement on PostgreSQL.
DEBIT_ROWS = hot.OverRows(DEBIT, "UPDATE accounts a SET balance_fen = a.balance_fen - v.amount FROM "
                          f"{hot.unnest('bigint', 'bigint', 'bigint')} AS v(amount, id, floor) "
                          "WHERE a.id = v.id AND a.balance_fen >= v.floor")
_CREDIT_ROWS = hot.OverRows(CREDIT, "UPDATE accounts a SET balance_fen = a.balance_fen + v.amount FROM "
                            f"{hot.unnest('bigint', 'bigint')} AS v(amount, id) WHERE a.id = v.id")
TRANSFER_ROWS = hot.insert_over_rows(INSERT_TRANSFER, "bigint", "bigint", "bigint", "text", "text", "timestamptz",
                                     "text", "text")
# PostgreSQL's writer locking the accounts of a credit_all it does not hold yet, without waiting (hot.rows_in).
_LOCK_NOWAIT = "SELECT id FROM accounts WHERE id {} ORDER BY id FOR NO KEY UPDATE NOWAIT"
_BOOK = INSERT_TRANSFER + " RETURNING id"
# The same updates for an account not held yet: locked without waiting by the statement itself (no round trip more).
_NOWAIT_ID = "id = (SELECT id FROM accounts WHERE id = ? FOR NO KEY UPDATE NOWAIT)"
_DEBIT_NOWAIT = DEBIT.replace("id = ?", _NOWAIT_ID)
_DEBIT_WORLD_NOWAIT = _DEBIT_WORLD.replace("id = ?", _NOWAIT_ID)
_CREDIT_NOWAIT = CREDIT.replace("id = ?", _NOWAIT_ID)


@dataclass(frozen=True)
class StatementRow:
    id: int
    code: str
    ref: str
    amount_fen: int  # signed: + money in, − money out
    created_at: datetime


class LedgerTx(RowLocks):
    conn: Connection
    write_id: str | None
    batch_id: str | None

    # ------------------------------------------------------------------ account locks (PostgreSQL's writer)

    def credit_all(self, credits: list[tuple[int, int]]) -> None:
        """Credit each (amount, account), every account once, in one statement (hot.OverRows); on PostgreSQL's writer
        the accounts not held yet (the bulk settle's wallets) are first locked without waiting: raises `RowsBusy`
        when another transaction holds one."""
        held = self.held
        if held is not None:
            self.job_accounts.update(acct for _, acct in credits)
            new = sorted({acct for _, acct in credits if acct not in held})
            if new:
                with rows_nowait("accounts", new):
                    hot.rows_in(self.conn, _LOCK_NOWAIT, new)
                held.update(new)
                self.job_locked.update(new)
        if hot.many(self.conn, _CREDIT_ROWS, credits) != len(credits):
            raise InvariantViolation("a credit's account is missing, or named twice")

    def _update(self, sql: str, nowait: str, params: tuple[int, ...], account: int) -> int:
        """Run one balance update (`sql`), or its NOWAIT form where the account is not held yet; the rows changed."""
        held = self.held
        if held is None or account in held:
            return hot.run(self.conn, sql, params)
        try:
            changed = hot.run(self.conn, nowait, params)
        except OperationalError as exc:
            if lock_not_available(exc):
                raise RowsBusy("accounts", {account}) from exc
            raise
        held.add(account)
        self.job_locked.add(account)
        return changed

    # ------------------------------------------------------------------ accounts and transfers

    def ensure_world_account(self) -> None:
        found = self.conn.execute(select(s.accounts.c.id).where(s.accounts.c.id == WORLD_ACCOUNT_ID)).first()
        if found is None:
            self.conn.execute(
                insert(s.accounts).values(id=WORLD_ACCOUNT_ID, kind=AccountKind.WORLD.value, owner_id=None)
            )

    def wallet_account_id(self, user_id: int) -> int:
        found = hot.rows(self.conn, _WALLET_ID, (_WALLET, user_id))
        if not found:
            raise NotFound("No such wallet.", code="account_not_found")
        return int(found[0][0])

    def balance_fen(self, user_id: int) -> int:
        bal = self.conn.execute(
            select(s.accounts.c.balance_fen).where(
                s.accounts.c.kind == AccountKind.WALLET.value, s.accounts.c.owner_id == user_id
            )
        ).scalar_one_or_none()
        if bal is None:
            raise NotFound("No such wallet.", code="account_not_found")
        return int(bal)

    def transfer(
        self, debit_id: int, credit_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime
    ) -> int:
        """Book one immutable transfer and move the cached balances; refuse if a wallet would go below 0."""
        assert amount_fen > 0, "transfers move a positive amount"
        if self.held is not None:
            self.job_accounts.update((debit_id, credit_id))  # both, should either be busy
        self._debit(debit_id, amount_fen)
        self._update(CREDIT, _CREDIT_NOWAIT, (amount_fen, credit_id), credit_id)
        return self._book(debit_id, credit_id, amount_fen, code, ref, now)

    def _debit(self, debit_id: int, amount_fen: int) -> None:
        if debit_id != WORLD_ACCOUNT_ID:
            if self._update(DEBIT, _DEBIT_NOWAIT, (amount_fen, debit_id, amount_fen), debit_id) != 1:
                raise errors.insufficient_funds()
        else:
            self._update(_DEBIT_WORLD, _DEBIT_WORLD_NOWAIT, (amount_fen, debit_id), debit_id)

    def _book(self, debit_id: int, credit_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime) -> int:
        try:
            booked = hot.rows(self.conn, _BOOK, (debit_id, credit_id, amount_fen, code.value, ref,
                                                 hot.ts(self.conn)(now), self.write_id, self.batch_id))
        except IntegrityError as exc:
            raise Conflict(f"{code.value} {ref} is already booked.", code="already_booked") from exc
        return int(booked[0][0])

    def statement(self, user_id: int, before_id: int | None, limit: int) -> list[StatementRow]:
        """Transfers touching the user's wallet, newest first, keyset-paginated by transfer id."""
        acc = self.wallet_account_id(user_id)
        t = s.transfers
        signed = case((t.c.credit_account_id == acc, t.c.amount_fen), else_=-t.c.amount_fen)
        q = (
            select(t.c.id, t.c.code, t.c.ref, signed.label("amount"), t.c.created_at)
            .where(or_(t.c.debit_account_id == acc, t.c.credit_account_id == acc))
            .order_by(t.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            q = q.where(t.c.id < before_id)
        return [
            StatementRow(r.id, r.code, r.ref, int(r.amount), utc(r.created_at)) for r in self.conn.execute(q)
        ]
