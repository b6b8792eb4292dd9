"""Share links of open-audience packets: a random token per packet, landing-page data, and figures by platform.

Claims are attributed to the platform of the link they came through and to the client channel
(app or web) inside the same transaction as the money: `attributed` names the pending claim, the
`opened` hook records it.  Shares and landing-page views are recorded as they happen.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from hongbao.domain import errors
from hongbao.domain.errors import Rejected
from hongbao.domain.open_kinds import Platform, parse_platform
from hongbao.domain.packets import PacketKind
from hongbao.service.deps import Deps
from hongbao.service.results.open_kinds import Counts, ShareFigures, ShareLink

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import ClaimRow, PacketRow
    from hongbao.service.ports.packets import ShareLinks, SharingPort

T = TypeVar("T")

# Kinds whose audience is not a closed circle, so a public link makes sense.
SHAREABLE = frozenset({PacketKind.FACE_TO_FACE, PacketKind.PASSWORD, PacketKind.CELEBRITY, PacketKind.ENTERPRISE})
TOKEN_BYTES = 16


def link_path(token: str, platform: str | None = None) -> str:
    """The public path of a share link, e.g. /s/Xy…?platform=wechat."""
    return f"/s/{token}" + (f"?platform={platform}" if platform and platform != "direct" else "")


class Sharing:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        # (packet id, user id) → (platform, channel) of an open on its way to the writer.
        self._pending: dict[tuple[int, int], tuple[str, str]] = {}

    # ------------------------------------------------------------------ links

    def link_for(
        self, tx: ShareLinks, packet_id: int, created_by: int, now: datetime, *, embed_secret: bool = False
    ) -> str:
        """Inside a write job: the packet's share token (made on first use).  Enterprise packets call this too."""
        existing = tx.share_link_of(packet_id, embed_secret)
        if existing is not None:
            return existing
        return tx.add_share_link(secrets.token_urlsafe(TOKEN_BYTES), packet_id, embed_secret, created_by, now)

    async def share(
        self, packet_id: int, user_id: int, *, platform: object, channel: str, embed_secret: bool = False
    ) -> ShareLink:
        """The sender shares a packet to a platform: the link, and one more share counted for that platform."""
        where = parse_platform(platform, required=True)
        return await self._link(packet_id, user_id, embed_secret, (where, channel))

    async def own_link(self, packet_id: int, user_id: int, *, embed_secret: bool) -> ShareLink:
        """The sender's link to their own packet (for its QR image), without counting a share."""
        return await self._link(packet_id, user_id, embed_secret, None)

    async def _link(
        self, packet_id: int, user_id: int, embed_secret: bool, shared: tuple[str, str] | None
    ) -> ShareLink:
        now = self.d.clock.now()

        def job(tx: SharingPort) -> ShareLink:
            row = tx.packet(packet_id)
            if row is None or row.view.sender_id != user_id:
                raise errors.packet_not_found()
            if row.view.kind not in SHAREABLE:
                raise Rejected("Only face-to-face, password, celebrity and enterprise packets have share links.",
                               code="not_shareable")
            if embed_secret and row.view.secret_hash is None:
                raise Rejected("This packet has no code or phrase to embed.", code="nothing_to_embed")
            token = self.link_for(tx, packet_id, user_id, now, embed_secret=embed_secret)
            where = "direct"
            if shared is not None:
                where = shared[0]
                tx.add_share_event(packet_id, "share", where, shared[1], now)
            return {"packet_id": packet_id, "token": token, "platform": where, "embed_secret": embed_secret,
                    "path": link_path(token, where)}

        return await self.d.store.write(job)

    async def resolve(self, token: str) -> tuple[PacketRow, bool]:
        """The packet behind a token and whether its secret is embedded; packet_not_found otherwise."""
        if not 8 <= len(token) <= 32:
            raise errors.packet_not_found()

        def job(tx: SharingPort) -> tuple[PacketRow, bool]:
            link = tx.share_link(token)
            row = None if link is None else tx.packet(link[0])
            if link is None or row is None:
                raise errors.packet_not_found()
            return row, link[1]

        return await self.d.store.read(job)

    async def viewed(self, packet_id: int, platform: str, channel: str) -> None:
        now = self.d.clock.now()
        await self.d.store.write(lambda tx: tx.add_share_event(packet_id, "view", platform, channel, now))

    # ------------------------------------------------------------------ claims, attributed

    async def attributed(
        self, packet_id: int, user_id: int, platform: str, channel: str, opening: Callable[[], Awaitable[T]]
    ) -> T:
        """Run an open of `packet_id` by `user_id`, telling the claim hook where it came from."""
        self._pending[(packet_id, user_id)] = (platform, channel)
        try:
            return await opening()
        finally:
            self._pending.pop((packet_id, user_id), None)

    def record_claims(self, tx: ShareLinks, opened: list[tuple[PacketRow, ClaimRow]]) -> None:
        """A batch's claims of shareable packets, each with where it came from: one insert for the batch."""
        events = [
            (row.view.id, "claim", *self._pending.get((row.view.id, claim.user_id), ("direct", "app")),
             claim.created_at)
            for row, claim in opened
            if row.view.kind in SHAREABLE
        ]
        if events:
            tx.add_share_events(events)

    # ------------------------------------------------------------------ figures

    async def figures(self, packet_id: int, user_id: int) -> ShareFigures:
        """Shares, landing-page views and claims of one packet by platform and by channel (sender only)."""

        def job(tx: SharingPort) -> tuple[PacketRow, list[tuple[str, str, str, int]]]:
            row = tx.packet(packet_id)
            if row is None or row.view.sender_id != user_id:
                raise errors.packet_not_found()
            return row, tx.share_figures(packet_id)

        row, counts = await self.d.store.read(job)
        platforms = ["direct", *(p.value for p in Platform)]

        def counted(event: str) -> Counts:
            by_platform = dict.fromkeys(platforms, 0)
            by_channel = {"app": 0, "web": 0}
            for ev, platform, channel, n in counts:
                if ev == event:
                    by_platform[platform] = by_platform.get(platform, 0) + n
                    by_channel[channel] = by_channel.get(channel, 0) + n
            return {"total": sum(by_platform.values()), "by_platform": by_platform, "by_channel": by_channel}

        return {
            "packet_id": packet_id,
            "kind": row.view.kind.value,
            "shares_count": row.view.shares_count,
            "claimed_count": row.claimed_count,
            "claimed_fen": row.claimed_fen,
            "shares": counted("share"),
            "views": counted("view"),
            "claims": counted("claim"),
        }
