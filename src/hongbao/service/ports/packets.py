"""What the packet-side use cases need from the store: a packet by id, its share links with what they led to
(service/sharing.py), sending one with what the `sent` hooks get, and reading packets.

The SQL transaction (adapters/sql/tx.py, tx_open.py) implements these structurally.  PacketRow stays in tx.py for
now: the open path's modules are being reworked for speed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from hongbao.domain.packets import PacketKind
from hongbao.domain.split import Split
from hongbao.service.ports.conversations import Notices
from hongbao.service.ports.hosts import HostVolume, OutboxWrites
from hongbao.service.ports.people import AudienceReads, Friends, Groups, People
from hongbao.service.ports.replies import IdempotentReplies

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow


class PacketById(Protocol):
    def packet(self, packet_id: int) -> PacketRow | None: ...


class ShareLinks(Protocol):
    """A packet's share tokens (one per packet and embed choice) and the shares, views and claims counted by
    platform and channel."""

    def share_link_of(self, packet_id: int, embed_secret: bool) -> str | None: ...

    def add_share_link(self, token: str, packet_id: int, embed_secret: bool, created_by: int, now: datetime) -> str: ...

    def share_link(self, token: str) -> tuple[int, bool] | None: ...

    def add_share_event(self, packet_id: int, event: str, platform: str, channel: str, now: datetime) -> None: ...

    def add_share_events(self, events: list[tuple[int, str, str, str, datetime]]) -> None: ...

    def share_figures(self, packet_id: int) -> list[tuple[str, str, str, int]]: ...


class SharingPort(PacketById, ShareLinks, Protocol):
    """What a sharing job reads and writes."""


class PacketVisibility(AudienceReads, People, Protocol):
    """Who may see a packet: its sender, its claimers and its audience, in the viewer's world
    (service/packets.py `check_visible`)."""

    def claim_of(self, packet_id: int, user_id: int) -> ClaimRow | None: ...


class PacketReads(PacketVisibility, PacketById, Groups, Protocol):
    """A packet with its claims, and a group's packets page by page, for those allowed to see them."""

    def claims_of(self, packet_id: int) -> list[ClaimRow]: ...

    def packets_where(
        self, *, sender_id: int | None = ..., group_id: int | None = ..., before_id: int | None = ..., limit: int = ...
    ) -> list[PacketRow]: ...


class SentEvents(HostVolume, OutboxWrites, Notices, Protocol):
    """What the `sent` packet hooks (service/hooks.py) get inside the transaction that funds the packet: a host's daily
    volume, the webhook outbox, the envelope in the conversation.  A new listener that needs more of the store widens
    this port."""


class PacketSending(SentEvents, PacketById, Protocol):
    """Sending a packet inside a job (service/packets.py `Packets.create`, used by asks, relay rounds and the open
    kinds too): the packet and its escrow funded from the sender, then the `sent` hooks."""

    def create_packet(
        self,
        *,
        kind: PacketKind,
        how: Split,
        sender_id: int,
        group_id: int | None,
        recipient_id: int | None,
        total_fen: int,
        shares_count: int,
        greeting: str,
        now: datetime,
        expires_at: datetime,
        secret_hash: bytes | None = ...,
        link_id: int | None = ...,
        extra: dict[str, object] | None = ...,
        shares: list[int] | None = ...,
    ) -> int: ...


class SendPort(PacketSending, People, Friends, Groups, IdempotentReplies, Protocol):
    """What sending a personal packet to a friend, or a packet to one's group, reads and writes."""
