"""A payment channel that fails on demand, for the tests of the payment outbox (service and HTTP)."""

from __future__ import annotations

import threading

from hongbao.adapters.channel import SandboxChannel
from hongbao.service.payments import GRACE_S
from tests.conftest import FrozenClock

BARRIER_TIMEOUT_S = 30


class FlakyChannel(SandboxChannel):
    """The sandbox with faults on demand: payouts that get no answer (nothing is paid), charges that never reach it
    (nothing is taken), and charges whose answer is lost after the money was taken (the process dies right after
    the charge).  It keeps every reference a payout was sent with."""

    def __init__(self) -> None:
        super().__init__()
        self.payouts_unanswered = 0
        self.charges_unseen = 0
        self.charges_answer_lost = 0
        self.payout_references: list[str | None] = []
        self._meeting: threading.Barrier | None = None
        self._callers = 0
        self._callers_lock = threading.Lock()

    def meet(self) -> None:
        """From now on, the next two calls (payout or lookup) are answered only when both are asking."""
        self._meeting, self._callers = threading.Barrier(2, timeout=BARRIER_TIMEOUT_S), 0

    def _wait_for_the_other(self) -> None:
        with self._callers_lock:
            self._callers += 1
            meeting = self._meeting if self._callers <= 2 else None
        if meeting is not None:
            meeting.wait()

    def payout(self, user_id: int, amount_fen: int, reference: str | None = None) -> str:
        self._wait_for_the_other()
        with self._callers_lock:
            self.payout_references.append(reference)
            unanswered, self.payouts_unanswered = self.payouts_unanswered > 0, max(0, self.payouts_unanswered - 1)
        if unanswered:
            raise ConnectionError("the payment service did not answer the payout")
        return super().payout(user_id, amount_fen, reference)

    def charge(self, user_id: int, amount_fen: int, reference: str | None = None) -> str:
        if self.charges_unseen:
            self.charges_unseen -= 1
            raise ConnectionError("the charge never reached the payment service")
        channel_ref = super().charge(user_id, amount_fen, reference)
        if self.charges_answer_lost:
            self.charges_answer_lost -= 1
            raise ConnectionError("the payment service took the money; its answer was lost")
        return channel_ref

    def lookup(self, reference: str) -> str | None:
        self._wait_for_the_other()
        return super().lookup(reference)


def after_the_grace_period(clock: FrozenClock) -> None:
    """Move the clock past the time a request may still be settling its payment: the sweep's turn."""
    clock.advance(seconds=GRACE_S + 1)
