"""The bridge's chat commands, parsed without I/O: `/hongbao 8.88 5 恭喜发财` and friends."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PREFIX = "/hongbao"
HELP = (
    "/hongbao 8.88 5 恭喜发财 — a lucky packet of ¥8.88 in 5 shares (add `equal` after the count for equal shares); "
    "react to it to grab. /hongbao topup 100 — add ¥100 (sandbox); /hongbao balance; "
    "/hongbao @user:server 5.20 新年快乐 — a personal packet, sent to them in a direct chat; "
    "/hongbao transfer @user:server 10.00 房租 — a transfer (转账) they accept with ✅ or return with ↩️."
)


@dataclass(frozen=True)
class SendGroup:
    total_fen: int
    shares_count: int
    split: str  # "double_mean" (lucky) or "equal"
    greeting: str | None


@dataclass(frozen=True)
class SendPersonal:
    recipient: str  # a Matrix user id
    amount_fen: int
    greeting: str | None


@dataclass(frozen=True)
class SendTransfer:
    recipient: str  # a Matrix user id
    amount_fen: int
    note: str | None


@dataclass(frozen=True)
class TopUp:
    amount_fen: int


@dataclass(frozen=True)
class Balance:
    pass


@dataclass(frozen=True)
class Help:
    reason: str = ""


Command = SendGroup | SendPersonal | SendTransfer | TopUp | Balance | Help


def fen(text: str) -> int | None:
    """'8.88' → 888; None unless a positive amount with at most two decimals."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def parse(body: str) -> Command | None:
    """The command in a message, None for an ordinary message, Help for a malformed command."""
    words = body.strip().split()
    if not words or words[0] != PREFIX:
        return None
    args = words[1:]
    if not args or args[0] in ("help", "-h"):
        return Help()
    if args[0] == "balance":
        return Balance()
    if args[0] == "topup":
        amount = fen(args[1]) if len(args) == 2 else None
        return TopUp(amount) if amount else Help("usage: /hongbao topup 100")
    if args[0] == "transfer":
        amount = fen(args[2]) if len(args) >= 3 and args[1].startswith("@") else None
        if amount is None:
            return Help("usage: /hongbao transfer @user:server 10.00 note")
        return SendTransfer(args[1], amount, " ".join(args[3:]) or None)
    if args[0].startswith("@"):
        amount = fen(args[1]) if len(args) >= 2 else None
        if amount is None:
            return Help("usage: /hongbao @user:server 5.20 greeting")
        return SendPersonal(args[0], amount, " ".join(args[2:]) or None)
    amount = fen(args[0])
    count = int(args[1]) if len(args) >= 2 and args[1].isdigit() else None
    if amount is None or not count:
        return Help("usage: /hongbao 8.88 5 greeting")
    rest = args[2:]
    split = "double_mean"
    if rest and rest[0] in ("equal", "lucky"):
        split = "equal" if rest[0] == "equal" else "double_mean"
        rest = rest[1:]
    return SendGroup(amount, count, split, " ".join(rest) or None)


def yuan(amount_fen: int) -> str:
    return f"¥{amount_fen // 100}.{amount_fen % 100:02d}"
