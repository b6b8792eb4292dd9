"""What face-to-face (面对面), password (口令) and celebrity (明星) packets need from the store: a live code or phrase
held unique by its digest, found by it, and freed once its packet is finished or expired.

The SQL transaction (adapters/sql/tx_open.py) implements these structurally.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from hongbao.service.ports.packets import PacketById, PacketSending, ShareLinks
from hongbao.service.ports.people import People
from hongbao.service.ports.replies import IdempotentReplies


class SecretRelease(Protocol):
    """A finished or expired packet frees its code or phrase for another live packet (the packet hooks)."""

    def release_secret(self, packet_id: int) -> None: ...


class OpenKindSending(PacketSending, ShareLinks, People, IdempotentReplies, Protocol):
    """What sending a code, phrase or celebrity packet reads and writes: the secret held among the live ones (in the
    sender's world), the packet, its share link; only a verified celebrity sends to followers."""

    def secret_free(self, secret_hash: bytes, now: datetime) -> bool: ...

    def hold_secret(self, secret_hash: bytes, packet_id: int, now: datetime) -> bool: ...

    def verified_as(self, user_id: int) -> str | None: ...


class SecretLookup(PacketById, People, Protocol):
    """The packet a code or phrase opens, by its digest in the opener's world: live, or finished a moment ago."""

    def live_packet_by_secret(self, secret_hash: bytes) -> int | None: ...

    def finished_packet_by_secret(self, secret_hash: bytes, now: datetime) -> int | None: ...
