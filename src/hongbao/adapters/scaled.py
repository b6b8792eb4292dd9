"""Scaled mode's wiring (HONGBAO_REDIS_URL set): what one process does, every other process learns through Redis.

Called by bootstrap after the areas are wired.  It adds, on top of the embedded wiring:
- a `Fanout` (adapters/redis_shared.py) whose notes poke every process's live feed after a commit, carry live
  events that are not stored messages to the process holding the user's streams, revoke logged-out tokens at
  once, and drop cached group members everywhere when a group changes;
- the gate's forgets told to every process (`TellingGate`), and the gate itself in Redis (`make_gate`);
- the prefix claimed for this database (`claim_prefix`): a process does not start on another database's keys.
"""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import redis

from hongbao.adapters.events import Event, direct_event
from hongbao.adapters.gate import LocalGate
from hongbao.adapters.redis_shared import OWNER_META_KEY, Fanout, claim_prefix, connect
from hongbao.domain.packets import PacketView

REDIS_FAILED = (redis.RedisError, OSError)
log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from hongbao.bootstrap import App
    from hongbao.config import Settings
    from hongbao.service.ports import Store


class TellingGate(LocalGate):
    """The in-process gate whose forgets reach every process (a member removed here is not admitted elsewhere).

    Forgets told by other processes arrive on the fan-out's thread; they are queued (a deque is thread-safe) and
    applied on the event loop before the next admit or membership check, never racing the loop's own use.
    """

    fanout: Fanout | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.told: deque[tuple[str, int]] = deque()

    def _apply_told(self) -> None:
        while self.told:
            kind, key = self.told.popleft()
            if kind == "forget_group":
                LocalGate.forget_group(self, key)
            else:
                LocalGate.forget_packet(self, key)

    async def admit(
        self,
        packet_id: int,
        user_id: int,
        now: datetime,
        *,
        reserve: bool,
        audience: Callable[[PacketView], Awaitable[bool]],
        secret_ok: Callable[[PacketView], bool] = lambda _: True,
    ) -> PacketView:
        if self.told:
            self._apply_told()
        return await super().admit(packet_id, user_id, now, reserve=reserve, audience=audience, secret_ok=secret_ok)

    async def is_member(self, group_id: int, user_id: int) -> bool:
        if self.told:
            self._apply_told()
        return await super().is_member(group_id, user_id)

    def forget_group(self, group_id: int) -> None:
        super().forget_group(group_id)
        if self.fanout is not None:
            self.fanout.send("forget_group", id=group_id)

    def forget_packet(self, packet_id: int) -> None:
        super().forget_packet(packet_id)
        if self.fanout is not None:
            self.fanout.send("forget_packet", id=packet_id)


def make_gate(settings: Settings, store: Store) -> LocalGate:
    """The gate: in process (embedded), in process with forgets told through Redis (HONGBAO_REDIS_GATE=0), or in
    Redis (scaled mode's default, adapters/redis_gate.py)."""
    if not settings.redis_url:
        return LocalGate(store)
    if not settings.redis_gate:
        return TellingGate(store)
    from hongbao.adapters.redis_gate import RedisGate

    # A place is held while its open settles: at most the write timeout, then the request has had its answer.
    return RedisGate(store, settings.redis_url, prefix=settings.redis_prefix, hold_s=settings.write_timeout_s + 30)


def wire(app: App, url: str, prefix: str) -> Fanout:
    """Connect `app` to the other processes of its install through the Redis at `url` (see the module doc), once
    the prefix is found to be this database's (`claim_prefix`; raises `PrefixTaken` if it is another's)."""
    owner = app.store.write_sync(lambda tx: tx.meta_get_or_add(OWNER_META_KEY, secrets.token_hex(8)))
    try:
        claim_prefix(connect(url), prefix, owner)
    except REDIS_FAILED as exc:  # Redis away at start: the gate falls back as it does whenever Redis fails
        log.warning("could not check who owns the Redis prefix %r: %s", prefix, exc)
    fanout = Fanout(url, prefix=prefix)
    live, bus = app.live, app.live.bus

    def after_commit(event: str, payload: Mapping[str, Any]) -> None:
        fanout.poke()
        direct = direct_event(event, payload)
        if direct is not None:
            user_id, ev = direct
            fanout.send("event", u=user_id, n=ev.name, d=ev.data, i=ev.id)

    app.deps.hooks.after_commit.append(after_commit)
    fanout.on("poke", lambda _: live.poke_threadsafe())
    fanout.on("event", lambda n: bus.publish(int(n["u"]), Event(str(n["n"]), dict(n["d"]), n.get("i"))))

    revocations = app.users.revocations
    if revocations is not None:
        revocations.announce = lambda token_id: fanout.send("revoked", t=token_id)
        fanout.on("revoked", lambda n: revocations.forget_told(str(n["t"])))

    gate = app.deps.gate
    if isinstance(gate, TellingGate):
        gate.fanout = fanout
        told = gate.told
        fanout.on("forget_group", lambda n: told.append(("forget_group", int(n["id"]))))
        fanout.on("forget_packet", lambda n: told.append(("forget_packet", int(n["id"]))))
    return fanout.start()
