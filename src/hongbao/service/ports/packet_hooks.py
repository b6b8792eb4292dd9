"""What the `opened` and `expired` packet hooks (service/hooks.py) get inside the money's transaction, and the jobs that
run them: settling a write batch of opens, expiring a packet.

Apart from packets.py because relay chains listen to these events, and a relay round sends a packet (ports/relay.py
needs packets.py).  A new listener that needs more of the store widens the event's port.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from hongbao.service.ports.conversations import ClaimNotices, NamedNotices
from hongbao.service.ports.hosts import OutboxWrites
from hongbao.service.ports.open_kinds import SecretRelease
from hongbao.service.ports.packets import PacketById, ShareLinks
from hongbao.service.ports.people import AudienceReads
from hongbao.service.ports.relay import ChainSteps
from hongbao.service.ports.replies import IdempotentReplies

if TYPE_CHECKING:
    from hongbao.domain.split import Rng
    from hongbao.service.ports import ShareWanted


class OpenedEvents(OutboxWrites, ShareLinks, SecretRelease, ClaimNotices, ChainSteps, Protocol):
    """What the `opened` and `opened_many` hooks get: the webhook outbox, a share link's claims, a finished packet's
    secret freed, the claim notices, a relay round's best luck owing the next round."""


class ExpiredEvents(OutboxWrites, SecretRelease, ChainSteps, NamedNotices, Protocol):
    """What the `expired` hooks get: the webhook outbox, the secret freed, the refund notice, the relay ended."""


class PacketExpiry(ExpiredEvents, PacketById, Protocol):
    """Expiring one packet: its remainder refunded once, then the `expired` hooks (service/packets.py)."""

    def expire_packet(self, packet_id: int, now: datetime) -> int | None: ...


class OpenSettling(OpenedEvents, AudienceReads, IdempotentReplies, Protocol):
    """Settling a write batch of opens (service/opening.py `_settle_opens`): each keyed retry's stored reply, the
    audience decided again, the shares taken and paid, the opened hooks, each reply stored with its effect."""

    write_id: str | None  # the write each claim's transfers are booked under, set per open before its hooks run

    def open_shares(self, wanted: list[ShareWanted], rng: Rng | None = ...) -> list[Any]: ...
