"""Repository methods of face-to-face, password and celebrity packets and share links (mixed into SqlTx)."""

from __future__ import annotations

from sqlalchemy.engine import Connection


class OpenTx:
    conn: Connection
