"""The scaled drills' storm and verdict: opens through two API processes while a fault strikes, then the ledger.

Alice sends PACKETS group packets of 3 equal shares; bob, carol and dave each open every one, each user from two
client threads (one per API process, every packet once), with an Idempotency-Key per open.  An open that gets no
answer (its process was killed) or a 503 is tried again with the same key through the other process, a bounded
number of times.  The verdict: no 500, every open answered (none left hanging), every share taken by exactly the
user its answer names with the amount it names, no claim twice, and `hongbao reconcile` clean.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.drills.server import cli
from tests.scaled.conftest import _ping, _port_free, _wait
from tests.scaled.topology import Topology, login

PACKETS = 24
SHARES = 3
OPENERS = ("bob", "carol", "dave")
TRIES_S_MAX = 40.0  # an open answered 503 or not at all is tried again (other process first) for this long
PAUSE_S = 0.25


@dataclass
class Storm:
    """Every open's final answer: (packet id, user) → (status, body)."""

    bases: list[str]
    packets: list[int] = field(default_factory=list)
    answers: dict[tuple[int, str], tuple[int | None, Any]] = field(default_factory=dict)
    hangs: list[str] = field(default_factory=list)  # attempts that got no answer within the client's 15 s
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self) -> None:
        alice = login(self.bases[0], "alice")
        group_id = alice.get("/v1/groups").json()[0]["id"]
        for i in range(PACKETS):
            reply = alice.post("/v1/packets", json={
                "kind": "group", "group_id": group_id, "split": "equal", "shares_count": SHARES,
                "amount_each_fen": 10, "greeting": f"drill-{i}",
            })  # fmt: skip
            assert reply.status_code == 201, reply.text
            self.packets.append(reply.json()["id"])

    def run(self, *, fault_after: int, fault: Callable[[], None]) -> None:
        """Open everything; call `fault` once `fault_after` opens were answered (from this thread)."""
        tokens = {name: login(self.bases[0], name).headers["Authorization"] for name in OPENERS}
        threads = [
            threading.Thread(target=self._opens, args=(name, tokens[name], side), daemon=True)
            for name in OPENERS for side in (0, 1)
        ]  # fmt: skip
        for t in threads:
            t.start()
        deadline = time.monotonic() + 180
        while self.done < fault_after and any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        fault()
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "an open was still waiting at the drill's deadline"

    def _opens(self, name: str, token: str, side: int) -> None:
        clients = [httpx.Client(base_url=b, timeout=15.0, headers={"Authorization": token},
                                limits=httpx.Limits(max_keepalive_connections=0)) for b in self.bases]
        for pid in self.packets[side::2]:
            key = f"{name}-{pid}-{uuid.uuid4().hex[:8]}"
            status: int | None = None
            body: Any = None
            until = time.monotonic() + TRIES_S_MAX
            attempt = 0
            while time.monotonic() < until:
                client = clients[(side + attempt) % len(clients)]  # a retry goes to the other process
                attempt += 1
                try:
                    reply = client.post(f"/v1/packets/{pid}/open", headers={"Idempotency-Key": key})
                except httpx.TimeoutException as exc:
                    with self.lock:
                        self.hangs.append(f"{name} opening {pid}: no answer within 15 s ({exc!r})")
                    status, body = None, repr(exc)
                    continue
                except httpx.HTTPError as exc:
                    status, body = None, f"{type(exc).__name__}: {exc}"
                    time.sleep(PAUSE_S)
                    continue
                status, body = reply.status_code, reply.json()
                if status == 503:
                    time.sleep(PAUSE_S)
                    continue
                break
            with self.lock:
                self.answers[(pid, name)] = (status, body)
                self.done += 1
        for c in clients:
            c.close()

    def problems(self, database_url: str) -> list[str]:
        found: list[str] = []
        engine = create_engine(database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT c.packet_id, u.username, c.amount_fen FROM claims c "
                                         "JOIN users u ON u.id = c.user_id"))
                claims = {(int(p), str(u)): int(a) for p, u, a in rows}
                twice = conn.execute(text("SELECT packet_id, user_id FROM claims GROUP BY packet_id, user_id "
                                          "HAVING count(*) > 1")).all()
        finally:
            engine.dispose()
        found += [f"claimed twice: packet {p} user {u}" for p, u in twice]
        for (pid, name), (status, body) in sorted(self.answers.items()):
            if status == 200:
                if claims.get((pid, name)) != body["amount_fen"]:
                    found.append(f"{name} was told {body['amount_fen']} fen from {pid}, the ledger says "
                                 f"{claims.get((pid, name))}")
            elif status is not None and status >= 500:
                found.append(f"{name} opening {pid}: {status} {body}")
            elif status is None:
                found.append(f"{name} opening {pid}: no answer in {TRIES_S_MAX} s of tries ({body})")
            elif not (status == 409 and body.get("code") == "already_claimed" and (pid, name) in claims):
                # Every packet has a share for each opener: anything else is a share wrongly refused.
                found.append(f"{name} opening {pid}: {status} {body.get('code')} (a share was left for them)")
        found += self.hangs
        missing = [k for k in ((p, n) for p in self.packets for n in OPENERS) if k not in self.answers]
        found += [f"never answered: {k}" for k in missing]
        done = cli(database_url, "reconcile")
        if done.returncode != 0:
            found.append(f"reconcile exited {done.returncode}: {done.stdout[-1500:]}")
        return found


def storm_through(top: Topology) -> Storm:
    storm = Storm([p.base for p in top.procs if p.name.startswith("api")])
    storm.prepare()
    return storm


class RedisServer:
    """A Redis of the drill's own on a port of its own (7190-7199), without persistence: a restart comes back empty."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.port = next(p for p in range(7190, 7200) if _port_free(p))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(lambda: _ping(self.port), f"redis-server on {self.port}")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart_empty(self) -> None:
        """kill -9 and start again: everything it held is gone (no persistence)."""
        self.kill()
        self.start()
