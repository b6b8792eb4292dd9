"""The drills' load: the demo users send group packets, transfer to friends, open each other's packets and read.

Nothing here carries an Idempotency-Key: a client that gets no answer cannot tell the server "this is the
same request", so the server alone must make sure each request takes effect at most once.  Every greeting
and note is unique, which lets the checks count a request's effects in the database.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import httpx

from tests.drills.client import Record, logged_in

USERS = ("alice", "bob", "carol", "dave")  # demo users: friends of each other, one group, 1,000 yuan each
SHARES = 3
OPEN_ATTEMPTS_MAX = 3  # an open that got a 503 is tried again, as a person taps again


@dataclass
class Workload:
    """Client threads, one per demo user, sharing the packets they sent so that the others open them."""

    base: str
    tag: str  # prefix of every greeting and note of this run
    record: Record
    reads: bool = False
    clients: dict[str, httpx.Client] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    group_id: int = 0
    packets: list[tuple[int, int]] = field(default_factory=list)  # (packet id, sender id), as sent
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name in USERS:
            client = self.clients[name] = logged_in(self.base, name)
            self.ids[name] = client.get("/v1/me").json()["id"]
        groups = self.clients[USERS[0]].get("/v1/groups").json()
        self.group_id = next(g["id"] for g in groups if g["name"].startswith("新春"))

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def run(self, steps_per_user: int, *, stop: threading.Event | None = None, deadline_s: float = 120.0) -> None:
        """Every user's loop in its own thread; returns when all are done, `stop` is set or the deadline passed."""
        until = time.monotonic() + deadline_s
        stop = stop or threading.Event()
        threads = [
            threading.Thread(target=self._loop, args=(name, steps_per_user, stop, until), name=f"drill-{name}")
            for name in USERS
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _loop(self, name: str, steps: int, stop: threading.Event, until: float) -> None:
        me = self.ids[name]
        friend = self.ids[USERS[(USERS.index(name) + 1) % len(USERS)]]
        client = self.clients[name]
        tried: set[int] = set()
        again: deque[tuple[int, int]] = deque()  # (packet id, attempt) of opens answered 503
        kinds = 4 if self.reads else 3
        for i in range(steps):
            if stop.is_set() or time.monotonic() > until:
                return
            step = i % kinds
            if step == 0:
                self.send(client, me, f"{self.tag}-{name}-p{i}")
            elif step == 1:
                self.record.call(
                    client, "POST", "/v1/transfers", op="transfer", subject=f"{self.tag}-{name}-t{i}",
                    json={"to_user_id": friend, "amount_fen": 1, "note": f"{self.tag}-{name}-t{i}"},
                )  # fmt: skip
            elif step == 2:
                self._open_some(client, me, tried, again)
            else:
                self.read(client)
        while again and not stop.is_set() and time.monotonic() < until:
            self._open_some(client, me, tried, again)

    def send(self, client: httpx.Client, me: int, greeting: str) -> bool:
        body = {
            "kind": "group", "group_id": self.group_id, "split": "equal", "shares_count": SHARES,
            "amount_each_fen": 10, "greeting": greeting,
        }  # fmt: skip
        seen = self.record.call(client, "POST", "/v1/packets", op="send", subject=greeting, json=body)
        if seen.ok:
            with self.lock:
                self.packets.append((seen.body["id"], me))
        return seen.ok

    def _open_some(self, client: httpx.Client, me: int, tried: set[int], again: deque[tuple[int, int]]) -> None:
        with self.lock:
            fresh = [pid for pid, sender in self.packets if sender != me and pid not in tried][:2]
        todo = [(pid, 1) for pid in fresh]
        if again:
            todo.append(again.popleft())
        for pid, attempt in todo:
            tried.add(pid)
            seen = self.record.call(
                client, "POST", f"/v1/packets/{pid}/open", op="open", subject=f"{pid}:{me}", attempt=attempt
            )
            if seen.unavailable and attempt < OPEN_ATTEMPTS_MAX:
                again.append((pid, attempt + 1))

    def read(self, client: httpx.Client) -> None:
        self.record.call(client, "GET", "/v1/wallet", op="read")
        with self.lock:
            last = self.packets[-1][0] if self.packets else None
        if last is not None:
            self.record.call(client, "GET", f"/v1/packets/{last}", op="read")
