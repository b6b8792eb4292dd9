"""Replies of the packets opened by a code, a phrase or a link (面对面, 口令, 明星; service/open_kinds.py), as their
sender's answer shows them, and their share links and figures (service/sharing.py).  Their claims answer `Opened`
(results/opening.py)."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from hongbao.service.results.packets import Packet


class SharedPacket(Packet):
    """A packet with its share link (a celebrity's as it is; the others with their secret)."""

    share_path: str  # /s/{token}
    share_url: NotRequired[str]  # the route adds it: this server's address and share_path


class SealedPacket(SharedPacket):
    """What a send stores for its retries: a code or phrase only sealed, never in clear."""

    sealed: NotRequired[str]


class CodePacket(SharedPacket):
    code: str  # to the sender only


class PhrasePacket(SharedPacket):
    phrase: str  # as the sender wrote it


class ShareLink(TypedDict):
    """A packet's share link, as its sender asked for it."""

    packet_id: int
    token: str
    platform: str  # where it was shared, or "direct"
    embed_secret: bool
    path: str  # /s/{token}?platform=…
    url: NotRequired[str]  # the route adds it: this server's address and path


class Counts(TypedDict):
    total: int
    by_platform: dict[str, int]
    by_channel: dict[str, int]  # app or web


class ShareFigures(TypedDict):
    """Shares, landing-page views and claims of one packet (its sender only)."""

    packet_id: int
    kind: str
    shares_count: int
    claimed_count: int
    claimed_fen: int
    shares: Counts
    views: Counts
    claims: Counts
