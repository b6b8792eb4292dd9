"""Enterprise campaigns, shake events and nearby merchants: prize tables, windows, caps, draws, distances and
coupon redeem codes."""

from __future__ import annotations

import hashlib
import hmac
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from hongbao.domain.errors import Conflict, Forbidden, NotFound, Rejected, TooManyRequests
from hongbao.domain.geo import EARTH_RADIUS_M, check_coordinates
from hongbao.domain.money import check_amount_fen, format_fen

PRIZES_MAX = 20
WEIGHT_MAX = 1_000_000
RADIUS_M_MAX = 50_000
CARDS_MAX = 20
ROUNDS_MAX = 24
REDEEM_CODE_DIGITS = 8


class Channel(StrEnum):
    """How a campaign reaches people."""

    LINK = "link"  # anyone logged in who holds the claim link's token
    FOLLOWERS = "followers"  # followers of the enterprise only
    SHAKE = "shake"  # a prize pool of a shake event: reached only by shaking


class PrizeKind(StrEnum):
    CASH = "cash"  # paid budget → wallet through the ledger
    COUPON = "coupon"  # a merchant voucher: never money in the cash ledger


class CampaignStatus(StrEnum):
    ACTIVE = "active"  # funded; claims allowed inside the window
    CLOSED = "closed"  # ended; the unspent budget went back to the owner


@dataclass(frozen=True)
class CampaignLimits:
    budget_fen_max: int = 10_000_000  # 100,000 yuan per campaign or pool
    cash_prize_fen_max: int = 20_000  # one cash prize ≤ one packet's maximum
    days_max: int = 90
    day_utc_offset_h: int = 8  # per-day caps count Beijing days
    offer_stock_max: int = 1_000_000
    nearby_results_max: int = 50
    shake_wins_per_user_max: int = 3  # K: WeChat's Gala allowed 3 wins per user
    shakes_per_second_max: int = 5
    shakes_per_round_max: int = 100


class Rng(Protocol):
    def random(self) -> float: ...


@dataclass(frozen=True)
class Prize:
    """One line of a prize table: cash of a fixed amount or a coupon of an offer, drawn by weight."""

    kind: PrizeKind
    weight: int
    amount_fen: int = 0  # cash only
    offer_id: int | None = None  # coupon only
    count_max: int | None = None  # at most this many of this prize; None: until budget or stock runs out


@dataclass(frozen=True)
class Branding:
    name: str
    logo_url: str | None
    cover_text: str


@dataclass(frozen=True)
class Candidate:
    """A prize still available to draw, with what is left of it."""

    prize_id: int
    kind: PrizeKind
    weight: int
    amount_fen: int
    offer_id: int | None


# ---------------------------------------------------------------------- coupon redeem codes


def redeem_code(key: bytes, coupon_id: int) -> str:
    """A coupon's redeem code: 8 digits of HMAC-SHA256(install key, "coupon:<id>"), shown only to its holder.

    Coupon ids are sequential, so the id alone proves nothing at the till; this code, which only the holder's own
    coupon list shows, is what proves the customer is there.  Derived, not stored: no schema change, and a pepper
    rotation changes the code shown while the old one still matches under the previous key.
    """
    mac = hmac.new(key, f"coupon:{coupon_id}".encode(), hashlib.sha256).digest()
    # 64 bits mod 10^8: the bias toward small codes is below 10^-11.
    return str(int.from_bytes(mac[:8], "big") % 10**REDEEM_CODE_DIGITS).zfill(REDEEM_CODE_DIGITS)


def clean_redeem_code(value: object) -> str:
    """The redeem code as a cashier typed it: NFKC (full-width digits count), spaces and dashes dropped."""
    if not isinstance(value, str):
        raise Rejected("code must be text.", code="invalid_code")
    text = "".join(
        ch for ch in unicodedata.normalize("NFKC", value) if not ch.isspace() and unicodedata.category(ch) != "Pd"
    )
    if len(text) != REDEEM_CODE_DIGITS or not (text.isascii() and text.isdigit()):
        raise Rejected(f"A coupon's redeem code is {REDEEM_CODE_DIGITS} digits.", code="invalid_code")
    return text


def redeem_code_matches(keys: Sequence[bytes], coupon_id: int, code: str) -> bool:
    """Whether `code` is the coupon's redeem code under any key (current first, then previous peppers'); every key
    is compared in constant time, so the answer's timing says nothing of which one matched."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(redeem_code(key, coupon_id), code)
    return matched


# ---------------------------------------------------------------------- validation


def _whole(value: object, field: str, low: int, high: int, code: str = "invalid_prize") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Rejected(f"{field} must be a whole number from {low} to {high}.", code=code)
    return value


def clean_text(value: object, field: str, chars_max: int, *, default: str | None = None) -> str:
    """NFC text without control characters, at most `chars_max` characters."""
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise Rejected(f"{field} must be text.", code="invalid_branding")
    text = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in text):
        raise Rejected(f"{field} has control or unassigned characters.", code="invalid_branding")
    if not text and default is None:
        raise Rejected(f"{field} must not be empty.", code="invalid_branding")
    if len(text) > chars_max:
        raise Rejected(f"{field} is longer than {chars_max} characters.", code="invalid_branding")
    return text or (default or "")


def check_branding(name: object, logo_url: object, cover_text: object) -> Branding:
    """A campaign's branding: a name, an https logo URL (optional) and a line of cover text."""
    clean_name = clean_text(name, "name", 64)
    logo: str | None = None
    if logo_url is not None:
        logo = clean_text(logo_url, "logo_url", 512)
        if not logo.startswith("https://") or any(ch in logo for ch in " \"'<>"):
            raise Rejected("logo_url must be an https:// URL.", code="invalid_branding")
    return Branding(clean_name, logo, clean_text(cover_text, "cover_text", 128, default="恭喜发财"))


def check_prizes(raw: object, *, cash_fen_max: int) -> list[Prize]:
    """Validate a prize table: 1–20 lines of {"kind": "cash", "amount_fen"} or {"kind": "coupon", "offer_id"},
    each with a `weight` (default 1) and an optional `count`."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= PRIZES_MAX:
        raise Rejected(f"prizes must be a list of 1 to {PRIZES_MAX} prizes.", code="invalid_prize")
    out: list[Prize] = []
    for line in raw:
        if not isinstance(line, dict):
            raise Rejected("each prize is an object.", code="invalid_prize")
        weight = _whole(line.get("weight", 1), "weight", 1, WEIGHT_MAX)
        count = line.get("count")
        count_max = None if count is None else _whole(count, "count", 1, 10_000_000)
        kind = line.get("kind")
        if kind == PrizeKind.CASH.value:
            amount = check_amount_fen(line.get("amount_fen"))
            if amount > cash_fen_max:
                raise Rejected(f"A cash prize is at most {format_fen(cash_fen_max)}.", code="amount_too_large",
                               max_fen=cash_fen_max, subject="prize")
            out.append(Prize(PrizeKind.CASH, weight, amount_fen=amount, count_max=count_max))
        elif kind == PrizeKind.COUPON.value:
            offer = _whole(line.get("offer_id"), "offer_id", 1, 2**62)
            out.append(Prize(PrizeKind.COUPON, weight, offer_id=offer, count_max=count_max))
        else:
            raise Rejected("a prize's kind is cash or coupon.", code="invalid_prize")
    return out


def check_cap(value: object, field: str) -> int | None:
    return None if value is None else _whole(value, field, 1, 1_000_000, code="invalid_cap")


def check_window(starts_at: datetime, ends_at: datetime, now: datetime, *, days_max: int) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise Rejected("Times need a timezone (e.g. 2026-02-16T20:00:00+08:00).", code="invalid_window")
    if ends_at <= starts_at or ends_at <= now:
        raise Rejected("A window ends after it starts, and in the future.", code="invalid_window")
    if ends_at - starts_at > timedelta(days=days_max):
        raise Rejected(f"A window lasts at most {days_max} days.", code="invalid_window")


def check_top_up(amount_fen: object, budget_fen: int, *, budget_fen_max: int) -> int:
    """More money for a budget: a positive whole number of fen that keeps the budget within its maximum."""
    amount = check_amount_fen(amount_fen)
    if budget_fen + amount > budget_fen_max:
        raise Rejected(f"A budget is at most {format_fen(budget_fen_max)}, top-ups included.",
                       code="amount_too_large", max_fen=budget_fen_max, subject="budget")
    return amount


def day_of(at: datetime, utc_offset_h: int) -> str:
    """The calendar day (YYYY-MM-DD) a claim counts against, in the campaign's timezone (Beijing by default)."""
    return (at + timedelta(hours=utc_offset_h)).date().isoformat()


# ---------------------------------------------------------------------- the draw


def draw(candidates: Sequence[Candidate], rng: Rng) -> Candidate:
    """Pick one available prize with probability weight / Σ weights."""
    assert candidates, "draw needs at least one candidate"
    total = sum(c.weight for c in candidates)
    point = rng.random() * total
    for c in candidates:
        point -= c.weight
        if point < 0:
            return c
    return candidates[-1]


def wins(rng: Rng, win_permille: int) -> bool:
    """A shake wins with probability win_permille / 1000."""
    return rng.random() * 1000 < win_permille


# ---------------------------------------------------------------------- rounds


@dataclass(frozen=True)
class Round:
    seq: int
    starts_at: datetime
    ends_at: datetime


def check_rounds(rounds: Sequence[tuple[datetime, datetime]], now: datetime) -> list[Round]:
    """Rounds in time order, each ending after it starts, none overlapping."""
    if not 1 <= len(rounds) <= ROUNDS_MAX:
        raise Rejected(f"An event has 1 to {ROUNDS_MAX} rounds.", code="invalid_window")
    if any(t.tzinfo is None for pair in rounds for t in pair):
        raise Rejected("Times need a timezone (e.g. 2026-02-16T20:00:00+08:00).", code="invalid_window")
    ordered = sorted(rounds)
    out: list[Round] = []
    for i, (start, end) in enumerate(ordered):
        check_window(start, end, now, days_max=2)
        if out and start < out[-1].ends_at:
            raise Rejected("Rounds must not overlap.", code="invalid_window")
        out.append(Round(i, start, end))
    return out


def active_round(rounds: Sequence[Round], now: datetime) -> Round | None:
    return next((r for r in rounds if r.starts_at <= now < r.ends_at), None)


# ---------------------------------------------------------------------- nearby


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lng_min, lng_max) enclosing the circle: a cheap SQL prefilter before haversine."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = math.cos(math.radians(lat))
    dlng = 180.0 if cos_lat < 1e-6 else min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat)))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def check_location(lat: object, lng: object) -> tuple[float, float]:
    return check_coordinates(lat, lng, "lat is −90…90 and lng −180…180.")


# ---------------------------------------------------------------------- refusals


def campaign_not_found() -> NotFound:
    return NotFound("No such campaign.", code="campaign_not_found")


def campaign_not_started() -> Rejected:
    return Rejected("This campaign has not started yet.", code="campaign_not_started")


def campaign_ended(detail: str = "This campaign has ended.") -> Rejected:
    return Rejected(detail, code="campaign_ended")


def not_campaign_owner(detail: str) -> Forbidden:
    return Forbidden(detail, code="not_campaign_owner")


def not_follower() -> Forbidden:
    return Forbidden("Only followers of this enterprise may claim.", code="not_follower")


def not_verified() -> Forbidden:
    return Forbidden("Only verified enterprise accounts may do this.", code="not_verified")


def cap_reached(detail: str) -> Conflict:
    return Conflict(detail, code="cap_reached")


def campaign_exhausted() -> Conflict:
    return Conflict("Every prize of this campaign is gone.", code="campaign_exhausted")


def pool_empty() -> Conflict:
    return Conflict("Every prize pool of this event is empty.", code="pool_empty")


def round_not_active() -> Rejected:
    return Rejected("No round of this event is on right now.", code="round_not_active")


def too_many_shakes(detail: str) -> TooManyRequests:
    return TooManyRequests(detail, code="too_many_shakes")


def coupon_not_found() -> NotFound:
    return NotFound("No such coupon.", code="coupon_not_found")


def coupon_redeemed() -> Conflict:
    return Conflict("This coupon was already redeemed.", code="coupon_redeemed")


def coupon_expired() -> Rejected:
    return Rejected("This coupon has expired.", code="coupon_expired")


def wrong_redeem_code() -> Forbidden:
    return Forbidden(
        "That redeem code does not match this coupon: ask the customer for the one beside its number.",
        code="wrong_code",
    )
