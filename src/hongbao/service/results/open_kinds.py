"""Replies of the packets opened by a code, a phrase or a link (面对面, 口令, 明星; service/open_kinds.py), as their
sender's answer shows them.  Their claims answer `Opened` (results/opening.py)."""

from __future__ import annotations

from typing import NotRequired

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
