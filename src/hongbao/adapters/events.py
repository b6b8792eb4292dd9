"""In-process pub/sub for live delivery (SSE): one bounded asyncio queue per subscriber, per user.

Embedded mode runs one API process, so a dict of queues is enough.  Several API processes would each
hold only their own subscribers and need a shared channel (Redis pub/sub) to fan events out: later.
A subscriber that does not keep up is dropped (its queue is cleared and closed) rather than slowing
down everyone else; its browser reconnects and reloads the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

QUEUE_MAX = 256


@dataclass(frozen=True)
class Event:
    """One thing to tell a connected user: an SSE event name, an id (messages), and a JSON payload."""

    name: str
    data: dict[str, Any]
    id: int | None = None


DROPPED = Event("dropped", {"reason": "too slow: reconnect and reload"})


@dataclass(eq=False)
class Subscription:
    """One connected stream of one user, living on the event loop that serves it."""

    user_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    dropped: bool = False

    async def next(self, timeout_s: float) -> Event | None:
        """The next event, or None after `timeout_s` without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None


class EventBus:
    """Subscriptions by user id; `publish` may be called from any thread or event loop."""

    def __init__(self, queue_max: int = QUEUE_MAX) -> None:
        self.queue_max = queue_max
        self._subs: dict[int, set[Subscription]] = {}
        self._lock = threading.Lock()
        self.dropped_count = 0

    def subscriber_count(self) -> int:
        """Streams open now (for /metrics)."""
        with self._lock:
            return sum(map(len, self._subs.values()))

    def subscribe(self, user_id: int) -> Subscription:
        """Call on the event loop that will read the subscription."""
        sub = Subscription(user_id, asyncio.get_running_loop(), asyncio.Queue(self.queue_max))
        with self._lock:
            self._subs.setdefault(user_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.user_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.user_id]

    def user_ids(self) -> frozenset[int]:
        """Users with at least one open stream."""
        with self._lock:
            return frozenset(self._subs)

    def has_subscribers(self) -> bool:
        with self._lock:
            return bool(self._subs)

    def publish(self, user_id: int, event: Event) -> int:
        """Queue `event` for every stream of `user_id`; return how many streams it went to."""
        with self._lock:
            subs = list(self._subs.get(user_id, ()))
        for sub in subs:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is sub.loop:
                self._offer(sub, event)
            else:
                with contextlib.suppress(RuntimeError):  # that loop is closed: its stream is gone
                    sub.loop.call_soon_threadsafe(self._offer, sub, event)
        return len(subs)

    def _offer(self, sub: Subscription, event: Event) -> None:
        if sub.dropped:
            return
        try:
            sub.queue.put_nowait(event)
        except asyncio.QueueFull:
            # Too slow: forget its backlog, tell it once, and stop feeding it.
            sub.dropped = True
            self.dropped_count += 1
            self.unsubscribe(sub)
            while not sub.queue.empty():
                sub.queue.get_nowait()
            sub.queue.put_nowait(DROPPED)


def direct_event(event: str, payload: Mapping[str, Any]) -> tuple[int, Event] | None:
    """The live event a commit sends straight to one user, not through a stored message: a packet outside
    conversations (password, face-to-face, celebrity…) tells its sender."""
    if event == "packet_sent" and payload.get("group_id") is None and payload.get("recipient_id") is None:
        sender = payload.get("sender_id")
        if isinstance(sender, int):
            return sender, Event("packet_sent", {"packet_id": payload.get("id"), **payload})
    return None
