"""Answers of the packets opened by a code, a phrase or a link (面对面, 口令, 明星), their sharing, and the web
app's own reads (demo logins, the yearly report, the fairness study)."""

from __future__ import annotations

from pydantic import Field

from hongbao.api.schemas import ClaimPublic, PacketSummary, Reply


class OpenPacketCreated(PacketSummary):
    sender_name: str | None = None
    claims: list[ClaimPublic]
    my_amount_fen: int | None
    share_path: str = Field(description="/s/{token}: the packet's share link on this server")
    share_url: str


class CodePacketCreated(OpenPacketCreated):
    code: str = Field(description="The code claimers type (to the sender only).")


class PasswordPacketCreated(OpenPacketCreated):
    phrase: str = Field(description="The phrase as the sender wrote it.")


class SecretPublic(Reply):
    packet_id: int
    kind: str = Field(description="face_to_face (with `code`) or password (with `phrase`)")
    code: str | None = None
    phrase: str | None = None


class SharePublic(Reply):
    packet_id: int
    token: str
    platform: str
    embed_secret: bool
    path: str
    url: str


class Counts(Reply):
    total: int
    by_platform: dict[str, int]
    by_channel: dict[str, int]


class ShareFigures(Reply):
    packet_id: int
    kind: str
    shares_count: int
    claimed_count: int
    claimed_fen: int
    shares: Counts
    views: Counts
    claims: Counts


class DemoUser(Reply):
    username: str
    display_name: str
    password: str
    verified_as: str | None


class MonthFigures(Reply):
    month: int
    sent_fen: int
    received_fen: int


class Luckiest(Reply):
    amount_fen: int
    packet_id: int | None
    created_at: str


class ReportPublic(Reply):
    year: int
    sent_fen: int
    sent_count: int
    received_fen: int
    received_count: int
    refunded_fen: int
    luckiest: Luckiest | None = Field(description="Your largest claim of the year.")
    months: list[MonthFigures]


class PositionPublic(Reply):
    position: int = Field(description="1: the first claimer")
    mean_fen: float
    stdev_fen: float
    best_luck_probability: float
    min_fen: int
    max_fen: int


class FairnessPublic(Reply):
    total_fen: int
    shares: int
    runs: int
    algorithm: str
    positions: list[PositionPublic]
