"""What several API processes share through Redis (scaled mode): one client factory for a single Redis or a Redis
Cluster, and the fan-out channel that carries what one process did to every other one.

`connect(url)`: `redis://…` is one Redis; `redis+cluster://host:port` (or HONGBAO_REDIS_CLUSTER=1) is a Redis
Cluster reached through any of its nodes, with redis-py's cluster client (it follows MOVED/ASK and keeps the slot map).

`Fanout`: one pub/sub channel (`<prefix>fanout`) per install.  Each process publishes small JSON notes on it and
runs one thread that listens; a note names its kind and the process it came from (a process ignores its own,
it has already acted).  Kinds, each handled by the callbacks registered under it:

- `poke`: something committed that may have posted messages; every process's live feed reads what is new at once
  instead of at its next idle poll (coalesced: at most one note per `coalesce_s` per process, however many commits);
- `event`: a live event for one user that is not a stored message (a packet outside conversations), delivered by
  whichever process holds that user's streams;
- `revoked`: a token id logged out, refused by every process at once (the database list stays the truth and is
  still read every poll: a note lost while Redis was away costs at most one poll);
- `forget_group` / `forget_packet`: a cache entry to drop (a member removed must not stay admitted elsewhere).

Pub/sub is at-most-once: a note published while a listener is reconnecting is lost.  Every kind therefore has a
slower path that does not depend on it (the feed's idle poll, the revocation poll, the store re-deciding every
claim), and the fan-out only makes the common case immediate.  On a Redis Cluster, PUBLISH reaches the subscribers
of every node, so the one channel works there unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

log = logging.getLogger(__name__)
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")

Client = redis.Redis | RedisCluster
Handler = Callable[[dict[str, Any]], object]


def is_cluster(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES) or os.environ.get("HONGBAO_REDIS_CLUSTER", "") in ("1", "true", "yes")


def connect(url: str, *, timeout_s: float = 0.5, retries: int = 0) -> Client:
    """A client for `url`: a single Redis, or a Redis Cluster (see the module doc) reached through the node named."""
    retry = Retry(ExponentialBackoff(cap=0.05, base=0.005), retries)
    common: dict[str, Any] = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
    if is_cluster(url):
        plain = url.replace("+cluster://", "://", 1)
        return RedisCluster.from_url(plain, retry=retry, **common)
    return redis.Redis.from_url(url, retry=retry, health_check_interval=0, **common)


OWNER_META_KEY = "redis_owner"  # meta: this database's id, written under <prefix>owner in the Redis it uses
OWNER_TTL_S = 30 * 24 * 3600  # renewed by every process start; the gate's keys live a day past their packets


class PrefixTaken(RuntimeError):
    """HONGBAO_REDIS_PREFIX already holds the keys of another database (see `claim_prefix`)."""


def claim_prefix(client: Client, prefix: str, owner: str) -> None:
    """Mark `prefix` in this Redis as the keys of the database whose id is `owner`, or raise `PrefixTaken` where
    another database's id is there.  The gate's keys name packets by id alone: a fresh or recreated database behind
    the keys of the old one (packet 1 again) would have its opens refused as taken by packets that are not its own.
    Refusing to start says so at once.  (A database restored from a backup keeps its id: take a new prefix then,
    docs/deploy.md.)"""
    key = f"{prefix}owner"
    client.set(key, owner, nx=True, ex=OWNER_TTL_S)
    raw: Any = client.get(key)
    found = raw.decode() if isinstance(raw, bytes) else raw
    if found is not None and found != owner:
        raise PrefixTaken(
            f"the Redis prefix {prefix!r} holds the keys of another hongbao database (its {key} is {found}, "
            f"this database's is {owner}): set HONGBAO_REDIS_PREFIX to a prefix of this database's own, or delete "
            f"that database's keys under {prefix!r} if it is gone"
        )
    client.expire(key, OWNER_TTL_S)


class Fanout:
    """Notes from this process to every other process of the install (see the module doc)."""

    def __init__(self, url: str, *, prefix: str = "hongbao:", coalesce_s: float = 0.005) -> None:
        self.url = url
        self.channel = f"{prefix}fanout"
        self.origin = secrets.token_hex(6)
        self.coalesce_s = coalesce_s
        self._client = connect(url, timeout_s=1.0, retries=1)
        self._handlers: dict[str, list[Handler]] = {}
        self._cond = threading.Condition()
        self._outbox: list[bytes] = []
        self._poke_due = False
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.received = 0
        self.listening = threading.Event()  # set once the subscription is up (tests wait for it)

    def on(self, kind: str, handler: Handler) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    def start(self) -> Fanout:
        if not self._threads:
            for name, target in (("listen", self._listen), ("publish", self._publish_loop)):
                thread = threading.Thread(target=target, name=f"hongbao-fanout-{name}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def close(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads.clear()
        self._client.close()

    # Sending: never blocks the caller; a thread publishes, pokes coalesced.
    def send(self, kind: str, **payload: Any) -> None:
        note = orjson.dumps({"k": kind, "o": self.origin, **payload})
        with self._cond:
            self._outbox.append(note)
            self._cond.notify()

    def poke(self) -> None:
        with self._cond:
            if not self._poke_due:
                self._poke_due = True
                self._cond.notify()

    def _publish_loop(self) -> None:
        poke = orjson.dumps({"k": "poke", "o": self.origin})
        while not self._stopping.is_set():
            with self._cond:
                while not self._outbox and not self._poke_due and not self._stopping.is_set():
                    self._cond.wait(1.0)
            if self._poke_due:
                time.sleep(self.coalesce_s)  # the commits of the next few ms ride on the same note
            with self._cond:
                notes, self._outbox = self._outbox, []
                if self._poke_due:
                    notes.append(poke)
                    self._poke_due = False
            for note in notes:
                try:
                    self._client.publish(self.channel, note)
                except redis.RedisError as exc:  # at-most-once: the slow paths catch up (module doc)
                    log.warning("fan-out publish failed (%s); other processes catch up at their next poll", exc)

    # Receiving: one thread, reconnecting with a pause while Redis is away.
    def _listen(self) -> None:
        while not self._stopping.is_set():
            pubsub = None
            try:
                pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                pubsub.subscribe(self.channel)
                self.listening.set()
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        self._dispatch(message["data"])
            except (redis.RedisError, OSError) as exc:
                self.listening.clear()
                log.warning("fan-out subscription lost (%s); resubscribing", exc)
                self._stopping.wait(0.5)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(redis.RedisError, OSError):
                        pubsub.close()

    def _dispatch(self, raw: bytes) -> None:
        try:
            note = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        if not isinstance(note, dict) or note.get("o") == self.origin:
            return
        self.received += 1
        for handler in self._handlers.get(str(note.get("k")), ()):
            try:
                handler(note)
            except Exception:
                log.exception("fan-out handler for %r failed", note.get("k"))
