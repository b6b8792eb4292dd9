"""What idempotency (service/idempotency.py) needs from the store: the reply stored under a user's key."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class IdempotentReplies(Protocol):
    """Replies kept by (user, Idempotency-Key), saved in the same transaction as the effect they answer."""

    def idempotent_reply(self, user_id: int, key: str) -> tuple[bytes, int, str] | None: ...

    def save_idempotent_reply(
        self, user_id: int, key: str, request_hash: bytes, status_code: int, response: str, now: datetime
    ) -> None: ...
