"""Money is integer fen (分); Decimal only to parse and format yuan at the edge."""

from __future__ import annotations

from decimal import Decimal, DecimalException

from hongbao.domain.errors import Rejected

FEN_PER_YUAN = 100
# Every amount must fit a signed 64-bit column with room to add many of them.
AMOUNT_FEN_MAX = 2**53


def check_amount_fen(amount_fen: object, *, field: str = "amount_fen") -> int:
    """Return `amount_fen` if it is a positive integer within bounds; refuse otherwise."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise Rejected(f"{field} must be a whole number of fen.", code="invalid_amount")
    if amount_fen <= 0:
        raise Rejected(f"{field} must be at least 1 fen.", code="invalid_amount")
    if amount_fen > AMOUNT_FEN_MAX:
        raise Rejected(f"{field} is too large.", code="amount_too_large")
    return amount_fen


def yuan_to_fen(text: str) -> int:
    """Parse '12.34' yuan into 1234 fen; refuse more than two decimals."""
    try:
        value = Decimal(text.strip())
        # Inside the try: "sNaN" signals InvalidOperation and "1e999999" Overflow on multiplication.
        fen = value * FEN_PER_YUAN
    except (DecimalException, AttributeError) as exc:
        raise Rejected(f"{text!r} is not an amount in yuan.", code="invalid_amount") from exc
    if not value.is_finite() or fen != fen.to_integral_value():
        raise Rejected(f"{text!r} has fractions of a fen.", code="invalid_amount")
    return check_amount_fen(int(fen))


def format_fen(amount_fen: int) -> str:
    """1234 → '¥12.34'."""
    sign = "-" if amount_fen < 0 else ""
    whole, cents = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}¥{whole}.{cents:02d}"
