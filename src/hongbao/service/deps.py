"""What every use case is handed by bootstrap: the store, the gate, the clock, the rules, the limiters."""

from __future__ import annotations

from dataclasses import dataclass, field

from hongbao.domain.packets import PacketRules
from hongbao.service.hooks import PacketHooks
from hongbao.service.ports import Clock, Gate, PasswordHasher, PaymentChannel, Store
from hongbao.service.ratelimit import Limiters, memory_limiters


@dataclass(frozen=True)
class Limits:
    group_members_max: int = 500
    topup_fen_max: int = 5_000_000
    token_ttl_s: int = 7 * 24 * 3600


@dataclass(frozen=True)
class Deps:
    store: Store
    gate: Gate
    clock: Clock
    hasher: PasswordHasher
    channel: PaymentChannel
    rules: PacketRules
    limits: Limits
    hooks: PacketHooks = field(default_factory=PacketHooks)
    # Makes the failure limiters of guessable secrets: in memory (embedded) or shared in Redis (scaled).
    limiters: Limiters = memory_limiters
