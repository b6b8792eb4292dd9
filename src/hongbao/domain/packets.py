"""Red packets: their kinds, the limits a new packet must respect, and the fixed order of grab checks."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from hongbao.domain import errors
from hongbao.domain.errors import Rejected
from hongbao.domain.money import check_amount_fen, format_fen
from hongbao.domain.split import Split


class PacketKind(StrEnum):
    PERSONAL = "personal"  # 个人红包: one friend, fixed amount
    GROUP = "group"  # 群红包: equal or lucky shares for members of a group
    RELAY = "relay"  # 接龙红包: a lucky group packet whose best-luck claimer owes the next round
    FACE_TO_FACE = "face_to_face"  # 面对面红包: anyone present who enters its code
    PASSWORD = "password"  # 口令红包: anyone who types the exact phrase
    CELEBRITY = "celebrity"  # 明星红包: followers of a verified account
    ENTERPRISE = "enterprise"  # 企业红包: paid from a campaign budget under the campaign's rules


# Kinds whose audience is the members of one group.
GROUP_KINDS = frozenset({PacketKind.GROUP, PacketKind.RELAY})


class PacketStatus(StrEnum):
    ACTIVE = "active"  # shares left and not expired
    FINISHED = "finished"  # every share claimed
    EXPIRED = "expired"  # TTL passed; the remainder went back to the sender


@dataclass(frozen=True)
class PacketRules:
    """Limits on new packets; every figure configurable (HONGBAO_* settings)."""

    share_fen_min: int = 1
    packet_fen_max: int = 20_000  # 200 yuan
    shares_count_max: int = 100
    ttl_s: int = 24 * 3600
    greeting_chars_max: int = 64

    def check_new(self, *, total_fen: object, shares_count: object) -> tuple[int, int]:
        """Validate amount and share count of a new packet; return them as ints."""
        total = check_amount_fen(total_fen, field="total_fen")
        if isinstance(shares_count, bool) or not isinstance(shares_count, int):
            raise Rejected("shares_count must be a whole number.", code="invalid_share_count")
        if not 1 <= shares_count <= self.shares_count_max:
            raise Rejected(
                f"shares_count must be between 1 and {self.shares_count_max}.", code="invalid_share_count",
                shares_count_max=self.shares_count_max,
            )
        if total > self.packet_fen_max:
            raise Rejected(
                f"A packet holds at most {format_fen(self.packet_fen_max)}.", code="amount_too_large",
                max_fen=self.packet_fen_max, subject="packet",
            )
        if total < shares_count * self.share_fen_min:
            raise Rejected(
                f"Every share needs at least {format_fen(self.share_fen_min)}.", code="share_too_small",
                min_fen=self.share_fen_min,
            )
        return total, shares_count

    def clean_greeting(self, greeting: object) -> str:
        """NFC-normalise the greeting; refuse non-text, control characters and over-long text."""
        if greeting is None:
            return "恭喜发财，大吉大利"
        if not isinstance(greeting, str):
            raise Rejected("greeting must be text.", code="invalid_greeting")
        text = unicodedata.normalize("NFC", greeting).strip()
        if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in text):
            raise Rejected("greeting has control or unassigned characters.", code="invalid_greeting")
        if len(text) > self.greeting_chars_max:
            raise Rejected(
                f"greeting is longer than {self.greeting_chars_max} characters.", code="invalid_greeting",
                chars_max=self.greeting_chars_max,
            )
        return text or "恭喜发财，大吉大利"

    def expires_at(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.ttl_s)


@dataclass(frozen=True)
class PacketView:
    """What a grab needs to know of a packet (cacheable; the store re-checks on open)."""

    id: int
    kind: PacketKind
    sender_id: int
    group_id: int | None
    recipient_id: int | None
    split: Split
    total_fen: int
    shares_count: int
    expires_at: datetime
    status: PacketStatus
    secret_hash: bytes | None = None  # digest of a face-to-face code or a password phrase; never shown
    link_id: int | None = None  # relay chain, ask or campaign this packet belongs to
    extra: Mapping[str, object] = field(default_factory=dict)  # kind-specific, e.g. location and radius


def not_eligible_for(kind: PacketKind) -> errors.HongbaoError:
    """The refusal a user outside a packet's audience gets."""
    if kind in GROUP_KINDS:
        return errors.not_group_member()
    if kind is PacketKind.CELEBRITY:
        return errors.Forbidden("Only followers may grab this red packet.", code="not_follower")
    return errors.not_eligible()


def check_grab(
    packet: PacketView | None,
    *,
    user_id: int,
    now: datetime,
    eligible: bool,
    already_claimed: bool,
    claimed_count: int,
    secret_ok: bool = True,
) -> None:
    """Refuse a grab with the first failing check, in the documented order; return if allowed.

    Order: not found → expired → not eligible → wrong code → already claimed → exhausted.
    `eligible` is the kind's audience rule (the recipient of a personal packet, a member of the
    group, a follower…); `secret_ok` whether the code or phrase given matches.
    """
    if packet is None:
        raise errors.packet_not_found()
    if packet.status is PacketStatus.EXPIRED or now >= packet.expires_at:
        raise errors.packet_expired()
    if packet.kind is PacketKind.PERSONAL:
        # The sender may see their own personal packet but not open it.
        eligible = eligible and user_id == packet.recipient_id
    if not eligible:
        raise not_eligible_for(packet.kind)
    if not secret_ok:
        raise errors.wrong_code()
    if already_claimed:
        raise errors.already_claimed()
    if packet.status is PacketStatus.FINISHED or claimed_count >= packet.shares_count:
        raise errors.packet_exhausted()
