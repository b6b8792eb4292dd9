"""Idempotent money-moving requests: the same key and body get the first answer and have one effect."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from hongbao.domain.errors import Conflict, Rejected

if TYPE_CHECKING:
    from hongbao.service.ports import Store
    from hongbao.service.ports.replies import IdempotentReplies

KEY_CHARS_MAX = 128
T = TypeVar("T")
# A use case's reply: a TypedDict (service/results/) or, in the areas not typed yet, a plain dict.
R = TypeVar("R", bound=Mapping[str, object])


@dataclass(frozen=True)
class IdempotencyKey:
    """A client-chosen request id, scoped to one user, with a fingerprint of the request."""

    user_id: int
    key: str
    request_hash: bytes

    @classmethod
    def of(cls, user_id: int, key: str | None, what: str, body: object) -> IdempotencyKey | None:
        if key is None:
            return None
        if not 1 <= len(key) <= KEY_CHARS_MAX or not key.isprintable():
            raise Rejected(
                f"Idempotency-Key must be 1–{KEY_CHARS_MAX} printable characters.",
                code="invalid_idempotency_key",
            )
        canonical = json.dumps([what, body], sort_keys=True, separators=(",", ":"), default=str)
        return cls(user_id, key, hashlib.sha256(canonical.encode()).digest())


def _first_reply(tx: IdempotentReplies, idem: IdempotencyKey) -> dict[str, Any] | None:
    """The reply stored for this key, None if it never ran; refuse the key reused for another request."""
    prev = tx.idempotent_reply(idem.user_id, idem.key)
    if prev is None:
        return None
    request_hash, _status, response = prev
    if request_hash != idem.request_hash:
        raise Conflict("This Idempotency-Key was used for a different request.", code="idempotency_key_reused")
    reply: dict[str, Any] = json.loads(response)
    return reply


@overload
async def stored_reply(store: Store, idem: IdempotencyKey | None) -> dict[str, Any] | None: ...


@overload
async def stored_reply(store: Store, idem: IdempotencyKey | None, shape: type[R]) -> R | None: ...


async def stored_reply(store: Store, idem: IdempotencyKey | None, shape: object = dict) -> object:
    """Before the cheap checks (gate, rate limits, channel charges) that a retry must not meet again:
    the first answer of this key, or None when it has not run.

    `shape` (the reply's TypedDict) only tells the type checker what comes back: a key's reply is only ever
    read for the request that stored it (the request hash names the use case), so it has that use case's shape."""
    if idem is None:
        return None
    return await store.read(lambda tx: _first_reply(tx, idem))


def once(
    tx: IdempotentReplies,
    idem: IdempotencyKey | None,
    effect: Callable[[], R],
    now_status: int = 201,
    *,
    now: datetime,
) -> R:
    """Run `effect` inside the caller's transaction unless this key already ran; return the (first) reply.

    The key is stored in the same transaction as the effect, so a crash leaves neither or both.  The first reply
    has `effect`'s shape: the request hash of the key names this use case, so only it stored a reply here.
    """
    first = first_reply(tx, idem)
    if first is not None:
        return cast(R, first)
    reply = effect()
    remember(tx, idem, reply, now_status, now=now)
    return reply


def first_reply(tx: IdempotentReplies, idem: IdempotencyKey | None) -> dict[str, Any] | None:
    """Inside a write: the reply stored for this key, None if it never ran (or no key)."""
    return None if idem is None else _first_reply(tx, idem)


def remember(
    tx: IdempotentReplies, idem: IdempotencyKey | None, reply: Mapping[str, object], status: int, *, now: datetime
) -> None:
    """Store `reply` for this key in the same transaction as its effect (`once`, for writes settled in bulk)."""
    if idem is not None:
        tx.save_idempotent_reply(idem.user_id, idem.key, idem.request_hash, status, json.dumps(reply), now)


class InFlight:
    """Keyed requests running in this process, by (user, key): a replay that arrives while its first
    attempt runs waits for that attempt to end, then runs as a replay (and finds the stored reply)
    instead of racing it through the gate or the payment channel.

    Replays in other processes are not seen here; the use cases answer those after the fact, by
    reading the stored reply again when the first attempt's effect refuses them.
    """

    def __init__(self) -> None:
        self._running: dict[tuple[int, str], asyncio.Event] = {}  # only requests running now: bounded

    async def run(self, idem: IdempotencyKey | None, attempt: Callable[[], Awaitable[T]]) -> T:
        if idem is None:
            return await attempt()
        slot = (idem.user_id, idem.key)
        while (running := self._running.get(slot)) is not None:
            await running.wait()
        self._running[slot] = done = asyncio.Event()
        try:
            return await attempt()
        finally:
            del self._running[slot]
            done.set()
