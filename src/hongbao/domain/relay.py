"""Rules of relay chains (接龙), asks (讨红包) and transfers (转账): limits, states and their refusals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

from hongbao.domain.errors import Conflict, Forbidden, NotFound, Rejected, TooManyRequests
from hongbao.domain.money import check_amount_fen, format_fen
from hongbao.domain.split import best_luck_index

# "Asks per day" counts days as people in China live them (UTC+8, no daylight saving).
CHINA = timezone(timedelta(hours=8))
MESSAGE_CHARS_MAX = 64


class ChainStatus(StrEnum):
    ACTIVE = "active"  # a round is running, or its best-luck claimer owes the next one
    ENDED = "ended"  # a deadline passed or a round expired unfinished


class ChainEnd(StrEnum):
    DEADLINE_MISSED = "deadline_missed"  # the owing user did not send the next round in time
    ROUND_EXPIRED = "round_expired"  # a round's packet expired before every share was taken


class AskStatus(StrEnum):
    OPEN = "open"  # waiting for an answer (shown as "expired" once past its TTL)
    FULFILLED = "fulfilled"  # answered with a packet
    DECLINED = "declined"


class TransferStatus(StrEnum):
    PENDING = "pending"  # money held in the transfer's escrow, waiting for the recipient
    ACCEPTED = "accepted"  # escrow → recipient
    RETURNED = "returned"  # the recipient sent it back: escrow → sender
    REFUNDED = "refunded"  # not accepted in time: escrow → sender, by the scheduler


@dataclass(frozen=True)
class RelayRules:
    """Limits of the three kinds; every figure is a HONGBAO_* setting."""

    relay_deadline_s: int = 3600  # the owing user has this long to send the next round
    relay_deadline_s_max: int = 7 * 24 * 3600
    relay_min_fen: int = 100  # default minimum of a round, when the chain's starter names none
    ask_ttl_s: int = 24 * 3600
    asks_per_day_max: int = 10
    transfer_ttl_s: int = 24 * 3600
    transfer_fen_max: int = 5_000_000

    def check_chain(self, min_fen: object, deadline_s: object) -> tuple[int, int]:
        """The chain's minimum round amount and next-sender deadline (defaults when None)."""
        floor = self.relay_min_fen if min_fen is None else check_amount_fen(min_fen, field="min_fen")
        if deadline_s is None:
            return floor, self.relay_deadline_s
        if isinstance(deadline_s, bool) or not isinstance(deadline_s, int):
            raise Rejected("deadline_s must be a whole number of seconds.", code="invalid_deadline")
        if not 60 <= deadline_s <= self.relay_deadline_s_max:
            raise Rejected(
                f"deadline_s must be between 60 and {self.relay_deadline_s_max}.", code="invalid_deadline"
            )
        return floor, deadline_s

    def check_transfer(self, amount_fen: object) -> int:
        amount = check_amount_fen(amount_fen)
        if amount > self.transfer_fen_max:
            raise Rejected(f"A transfer is at most {format_fen(self.transfer_fen_max)}.", code="amount_too_large",
                           max_fen=self.transfer_fen_max, subject="transfer")
        return amount


def check_round_amount(total_fen: int, min_fen: int) -> None:
    if total_fen < min_fen:
        raise Rejected(f"A round of this chain is at least {format_fen(min_fen)}.", code="below_relay_minimum",
                       min_fen=min_fen)


def owed_by(claims: Sequence[tuple[int, int]]) -> int | None:
    """Who owes the next round: the best-luck claimer of (user_id, amount_fen) in claim order."""
    best = best_luck_index([amount for _, amount in claims])
    return None if best is None else claims[best][0]


def clean_message(message: object) -> str:
    if message is None:
        return ""
    if not isinstance(message, str) or not message.isprintable() or len(message.strip()) > MESSAGE_CHARS_MAX:
        raise Rejected(f"message: at most {MESSAGE_CHARS_MAX} printable characters.", code="invalid_message")
    return message.strip()


def ask_day(now: datetime) -> date:
    """The day an ask counts against (China time)."""
    return now.astimezone(CHINA).date()


# Refusals, so each code is written once.
def relay_not_found() -> NotFound:
    return NotFound("No such relay chain.", code="relay_not_found")


def not_your_turn() -> Forbidden:
    return Forbidden("Only the best-luck claimer of the last round sends the next one.", code="not_your_turn")


def relay_deadline_passed() -> Rejected:
    return Rejected("The deadline for the next round has passed.", code="relay_deadline_passed")


def relay_ended() -> Conflict:
    return Conflict("This relay chain has ended.", code="relay_ended")


def ask_not_found() -> NotFound:
    return NotFound("No such ask.", code="ask_not_found")


def ask_expired() -> Rejected:
    return Rejected("This ask has expired.", code="ask_expired")


def ask_answered() -> Conflict:
    return Conflict("This ask was already answered.", code="ask_answered")


def not_asked() -> Forbidden:
    return Forbidden("Only the one asked may answer this ask.", code="not_asked")


def asks_disabled() -> Forbidden:
    return Forbidden("This user does not accept asks.", code="asks_disabled")


def asked_too_often(cap: int) -> TooManyRequests:
    return TooManyRequests(f"Asked too often: at most {cap} asks a day.", code="asked_too_often")


def transfer_not_found() -> NotFound:
    return NotFound("No such transfer.", code="transfer_not_found")


def transfer_settled() -> Conflict:
    return Conflict("This transfer was already accepted, returned or refunded.", code="transfer_settled")


def transfer_expired() -> Rejected:
    return Rejected("This transfer was not accepted in time; it goes back to the sender.", code="transfer_expired")


def not_transfer_recipient() -> Forbidden:
    return Forbidden("Only the recipient accepts or returns a transfer.", code="not_transfer_recipient")
