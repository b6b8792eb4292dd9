"""Repository methods of the ledger: accounts, the atomic transfer, the wallet statement (mixed into SqlTx)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.aware import utc
from hongbao.domain import errors
from hongbao.domain.errors import Conflict, NotFound
from hongbao.domain.ledger import WORLD_ACCOUNT_ID, AccountKind, TransferCode

# Every money path runs these (sends, opens alone, transfers, top-ups, refunds, prizes): driver SQL (hot.py), no
# per-call compilation.  Measured with bench/send_rate.py, see BENCHMARKS.md.
_WALLET = AccountKind.WALLET.value
_WALLET_ID = "SELECT id FROM accounts WHERE kind = ? AND owner_id = ?"
# DEBIT, CREDIT and INSERT_TRANSFER are also the bulk settle's, run there as executemany (tx_settle.py).
DEBIT = "UPDATE accounts SET balance_fen = balance_fen - ? WHERE id = ? AND balance_fen >= ?"
_DEBIT_WORLD = "UPDATE accounts SET balance_fen = balance_fen - ? WHERE id = ?"  # the world mints: it may go below 0
CREDIT = "UPDATE accounts SET balance_fen = balance_fen + ? WHERE id = ?"
_CREDIT_WALLET = "UPDATE accounts SET balance_fen = balance_fen + ? WHERE kind = ? AND owner_id = ? RETURNING id"
INSERT_TRANSFER = (
    "INSERT INTO transfers (debit_account_id, credit_account_id, amount_fen, code, ref, created_at, write_id, "
    "batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_BOOK = INSERT_TRANSFER + " RETURNING id"


@dataclass(frozen=True)
class StatementRow:
    id: int
    code: str
    ref: str
    amount_fen: int  # signed: + money in, − money out
    created_at: datetime


class LedgerTx:
    conn: Connection
    write_id: str | None
    batch_id: str | None

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
        self._debit(debit_id, amount_fen)
        hot.run(self.conn, CREDIT, (amount_fen, credit_id))
        return self._book(debit_id, credit_id, amount_fen, code, ref, now)

    def pay_to_wallet(
        self, debit_id: int, user_id: int, amount_fen: int, code: TransferCode, ref: str, now: datetime
    ) -> int:
        """`transfer` into a user's wallet, found by its owner in the same statement that credits it (the hot path
        of 拆: one statement fewer than looking the wallet up first)."""
        assert amount_fen > 0, "transfers move a positive amount"
        self._debit(debit_id, amount_fen)
        credited = hot.rows(self.conn, _CREDIT_WALLET, (amount_fen, _WALLET, user_id))
        if not credited:
            raise NotFound("No such wallet.", code="account_not_found")
        return self._book(debit_id, int(credited[0][0]), amount_fen, code, ref, now)

    def _debit(self, debit_id: int, amount_fen: int) -> None:
        if debit_id != WORLD_ACCOUNT_ID:
            if hot.run(self.conn, DEBIT, (amount_fen, debit_id, amount_fen)) != 1:
                raise errors.insufficient_funds()
        else:
            hot.run(self.conn, _DEBIT_WORLD, (amount_fen, debit_id))

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
