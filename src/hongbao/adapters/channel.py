"""The sandbox payment channel: approves every top-up and payout without touching real money.

Honestly named: it stands where a bank, Alipay or WeChat Pay adapter would, for demos and tests.
Like a real payment service it honours an idempotency reference: a charge or payout sent again with
the same reference moves no money again and answers the first channel reference.  A real service
keeps those references on its side, shared by every API process that talks to it; the sandbox keeps
them in the memory of the object, so API processes share them only if they share the object (tests
build two Apps with one channel, as two API workers talking to one payment service).  `hongbao serve
--workers N` gives each worker its own sandbox, which is harmless: the sandbox moves no real money.
"""

from __future__ import annotations

import secrets
import threading

from hongbao.cache import Lru
from hongbao.domain.errors import Conflict, Rejected

# A payment service keeps idempotency references for a while (a day, typically); the sandbox keeps the latest.
REFERENCES_MAX = 100_000


class SandboxChannel:
    name = "sandbox"

    def __init__(self, decline_over_fen: int | None = None) -> None:
        self.decline_over_fen = decline_over_fen
        self.charged_fen = 0
        self.paid_out_fen = 0
        # reference → (operation, user, amount, channel reference); the lock because two Apps in
        # two threads may share one sandbox, as two API processes share one payment service.
        self._done: Lru[str, tuple[str, int, int, str]] = Lru(REFERENCES_MAX)
        self._lock = threading.Lock()

    def charge(self, user_id: int, amount_fen: int, reference: str | None = None) -> str:
        if self.decline_over_fen is not None and amount_fen > self.decline_over_fen:
            raise Rejected("The sandbox channel declined this charge.", code="channel_declined")
        with self._lock:
            first = self._first("charge", user_id, amount_fen, reference)
            if first is not None:
                return first
            self.charged_fen += amount_fen
            return self._remember("charge", user_id, amount_fen, reference, f"sbx-in-{secrets.token_hex(12)}")

    def payout(self, user_id: int, amount_fen: int, reference: str | None = None) -> str:
        with self._lock:
            first = self._first("payout", user_id, amount_fen, reference)
            if first is not None:
                return first
            self.paid_out_fen += amount_fen
            return self._remember("payout", user_id, amount_fen, reference, f"sbx-out-{secrets.token_hex(12)}")

    def lookup(self, reference: str) -> str | None:
        """The channel reference of the charge or payout made with `reference`; None if the sandbox never saw it."""
        with self._lock:
            done = self._done.get(reference)
        return None if done is None else done[3]

    def _first(self, operation: str, user_id: int, amount_fen: int, reference: str | None) -> str | None:
        """The channel reference of the request already made with `reference`; refuse it reused for another."""
        done = None if reference is None else self._done.get(reference)
        if done is None:
            return None
        if done[:3] != (operation, user_id, amount_fen):
            raise Conflict(
                "The payment channel saw this reference for a different request.", code="idempotency_key_reused"
            )
        return done[3]

    def _remember(self, operation: str, user_id: int, amount_fen: int, reference: str | None, ref: str) -> str:
        if reference is not None:
            self._done.put(reference, (operation, user_id, amount_fen, ref))
        return ref
