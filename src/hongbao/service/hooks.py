"""Transactional hooks: other use cases (conversations, relay chains, campaigns) react to packet events
inside the same transaction as the money, so a notice or a chain step is never lost nor doubled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow
    from hongbao.service.ports.ledger import MoneyEvents
    from hongbao.service.ports.packet_hooks import ExpiredEvents, OpenedEvents
    from hongbao.service.ports.packets import SentEvents

log = logging.getLogger(__name__)

# Each event's hooks get the store as its port says (ports/packets.py, ports/packet_hooks.py): a new listener that
# needs more widens the port.
SentHook = Callable[["SentEvents", "PacketRow"], None]
OpenedHook = Callable[["OpenedEvents", "PacketRow", "ClaimRow"], None]  # the row as it is after this claim
# The same for every claim of one write batch at once, in order (a hook that can save statements by it).
OpenedManyHook = Callable[["OpenedEvents", "list[tuple[PacketRow, ClaimRow]]"], None]
ExpiredHook = Callable[["ExpiredEvents", "PacketRow", int], None]  # the row after expiry, and the refund in fen
AfterCommit = Callable[[str, Mapping[str, Any]], None]  # (event name, payload), for live delivery
# Money events beyond packets (transfer.created/accepted/returned/refunded, payment.settled), inside the transaction:
# (tx, event type, the users it concerns, data).  Host volume caps and the webhook outbox listen.
MoneyHook = Callable[["MoneyEvents", str, "tuple[int, ...]", dict[str, Any]], None]


@dataclass
class PacketHooks:
    sent: list[SentHook] = field(default_factory=list)
    opened: list[OpenedHook] = field(default_factory=list)
    opened_many: list[OpenedManyHook] = field(default_factory=list)
    expired: list[ExpiredHook] = field(default_factory=list)
    after_commit: list[AfterCommit] = field(default_factory=list)
    money: list[MoneyHook] = field(default_factory=list)

    def emit(self, tx: MoneyEvents, event: str, users: tuple[int, ...], data: dict[str, Any]) -> None:
        """Run the money hooks in the caller's transaction (a hook's refusal rolls the money back with it)."""
        for hook in self.money:
            hook(tx, event, users, data)

    def published(self, event: str, payload: Mapping[str, Any]) -> None:
        """Tell live listeners (SSE) after the commit; a listener's failure never touches money."""
        for listener in self.after_commit:
            try:
                listener(event, payload)
            except Exception:
                import logging

                logging.getLogger(__name__).exception("after-commit listener failed")
