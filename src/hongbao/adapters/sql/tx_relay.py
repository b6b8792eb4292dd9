"""Repository methods of relay chains, asks and transfers (mixed into SqlTx)."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class RelayTx:
    conn: Connection
