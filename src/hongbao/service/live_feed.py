"""Live delivery: new messages read after commit and handed to the event bus (`LiveFeed.pump`, poked by every commit
that may have posted one and run at least once a second while someone listens), with the live events that are not a
stored message (`direct_event`).  The messages themselves are conversations.py's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from hongbao.adapters.events import Event, EventBus, Subscription, direct_event
from hongbao.domain.social import ConversationKind
from hongbao.service.conversations import messages_public, shown_to

if TYPE_CHECKING:
    from hongbao.service.ports import Store
    from hongbao.service.ports.conversations import ConversationRow, MessageFeed, MessageRow

log = logging.getLogger(__name__)

PUMP_BATCH_MAX = 500
GAP_WAIT_S = 5.0  # a message id missing below the newest delivered is looked for this long (LiveFeed)


class LiveFeed:
    """Hands committed messages and packet events to connected users through the event bus.

    The feed remembers the newest message id it delivered; `pump` reads what came after (one indexed
    query) and publishes each message to the participants who are listening.  Within one process the
    single writer commits ids in order; several writing processes (scaled mode) can commit them out of
    order, so an id missing below the newest one read is a gap: a message still being committed by another
    process, read again by every pump until it comes or GAP_WAIT_S has passed (an id whose transaction
    rolled back never comes).  Pumps are poked by this process's commits and, through Redis, by the others'.
    """

    def __init__(self, store: Store, bus: EventBus, *, poll_s: float = 1.0) -> None:
        self.store = store
        self.bus = bus
        self.poll_s = poll_s
        self._last_id: int | None = None
        self._gaps: dict[int, float] = {}  # message ids missing below _last_id → when first missed (monotonic)
        self._busy = False
        self._again = False
        self._guard = threading.Lock()
        self._last_pump = 0.0
        self._tasks: set[asyncio.Task[int]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the streams, for pokes from other threads

    async def subscribe(self, user_id: int) -> Subscription:
        self._loop = asyncio.get_running_loop()
        if self._last_id is None:
            newest = await self.store.read(lambda tx: tx.newest_message_id())
            with self._guard:
                if self._last_id is None:
                    self._last_id = newest
        return self.bus.subscribe(user_id)

    def unsubscribe(self, sub: Subscription) -> None:
        self.bus.unsubscribe(sub)
        if not self.bus.has_subscribers():
            with self._guard:
                self._last_id = None  # nobody listens: the next subscriber starts from "now"

    def on_after_commit(self, event: str, payload: Mapping[str, Any]) -> None:
        """`deps.hooks.after_commit` listener: a packet event may have posted messages; deliver them."""
        if not self.bus.has_subscribers():
            return
        direct = direct_event(event, payload)
        if direct is not None:
            self.bus.publish(*direct)
        self.poke()

    def poke_threadsafe(self) -> None:
        """`poke` from any thread (another process's commit, told through Redis): on the streams' loop."""
        loop = self._loop
        if loop is not None and self.bus.has_subscribers():
            with contextlib.suppress(RuntimeError):  # that loop is closed: its streams are gone
                loop.call_soon_threadsafe(self.poke)

    def poke(self) -> None:
        """Deliver new messages soon, on the running event loop (no-op without listeners or a loop)."""
        if not self.bus.has_subscribers():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.pump())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def pump_if_due(self) -> int:
        """Called by idle streams: catch messages other jobs posted without poking (relay deadlines…)."""
        if time.monotonic() - self._last_pump < self.poll_s:
            return 0
        return await self.pump()

    async def pump(self) -> int:
        """Publish every message committed since the last pump; return how many events went out."""
        with self._guard:
            if self._busy:
                self._again = True
                return 0
            self._busy = True
        sent = 0
        try:
            while True:
                self._again = False
                newest = self._last_id
                if newest is None or not self.bus.has_subscribers():
                    break
                gaps = frozenset(self._gaps)
                after = min(gaps) - 1 if gaps else newest
                listening = self.bus.user_ids()
                # Typed so mypy checks the store's transaction is a MessageFeed (a bare partial is not checked).
                collect: Callable[[MessageFeed], Collected] = partial(
                    _collect, after_id=after, listening=listening, newest=newest, gaps=gaps)
                rows, events = await self.store.read(collect)
                for user_id, event in events:
                    sent += self.bus.publish(user_id, event)
                with self._guard:
                    if self._last_id is not None:
                        self._last_id = self._note_gaps(newest, [r.id for r in rows])
                if not self._again and len(rows) < PUMP_BATCH_MAX:
                    break
        except Exception:  # live delivery never breaks the request that poked it; the next pump retries
            log.exception("live feed pump failed")
        finally:
            self._last_pump = time.monotonic()
            with self._guard:
                self._busy = False
        return sent

    def _note_gaps(self, newest: int, ids: list[int]) -> int:
        """Forget the gaps now filled or too old, note the new ones below the newest id read; return that id."""
        now = time.monotonic()
        seen = set(ids)
        for gap in [g for g, since in self._gaps.items() if g in seen or now - since > GAP_WAIT_S]:
            del self._gaps[gap]
        top = max([newest, *ids])
        for missing in range(newest + 1, top):
            if missing not in seen:
                self._gaps.setdefault(missing, now)
        return top


Collected = tuple[list["MessageRow"], list[tuple[int, Event]]]  # messages read, and the events they make


def _collect(
    tx: MessageFeed,
    after_id: int,
    listening: frozenset[int],
    newest: int | None = None,
    gaps: frozenset[int] = frozenset(),
) -> Collected:
    """Messages after `after_id`, and their events for the users listening; below `newest`, only the `gaps`
    (the rest went out already)."""
    rows = tx.messages_after(after_id, PUMP_BATCH_MAX)
    if newest is not None:
        rows = [r for r in rows if r.id > newest or r.id in gaps]
    convs: dict[int, ConversationRow | None] = {}
    audience: dict[int, list[int]] = {}
    for r in rows:
        if r.conversation_id in convs:
            continue
        conv = convs[r.conversation_id] = tx.conversation(r.conversation_id)
        if conv is None:
            audience[r.conversation_id] = []
        elif conv.kind == ConversationKind.PAIR.value:
            audience[r.conversation_id] = [u for u in (conv.user_low_id, conv.user_high_id) if u in listening]
        else:
            assert conv.group_id is not None
            audience[r.conversation_id] = [u for u in tx.member_ids(conv.group_id) if u in listening]
    events: list[tuple[int, Event]] = []
    wanted = [r for r in rows if audience[r.conversation_id]]
    for view, r in zip(messages_public(tx, wanted), wanted, strict=True):
        extra = r.data.get("event")
        for user_id in audience[r.conversation_id]:
            if shown_to(user_id, view):
                events.append((user_id, Event("message", cast(dict[str, Any], view), r.id)))  # as its JSON
            if isinstance(extra, str):  # counts for whoever watches the packet (packet_opened), notice or not
                events.append((user_id, Event(extra, {"conversation_id": r.conversation_id, **r.data})))
    return rows, events
