"""Cross-process live delivery and revocation (issue 10 item 3): two real `hongbao serve` processes on one
PostgreSQL and one Redis.  What a user does through server A reaches a stream held by server B through the fan-out
(adapters/redis_shared.py), not the 1 s database poll: the poll and the revocation read are set to a minute here,
so only the fan-out can deliver within the test's wait."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.scaled.topology import Topology, login, topology

SLOW_POLL = {"HONGBAO_EVENTS_POLL_S": "60", "HONGBAO_TOKEN_REVOCATION_POLL_S": "60"}
WAIT_S = 20.0  # generous: the fan-out takes milliseconds, the polls it replaces a minute


@dataclass
class Listener:
    """An SSE stream read on a thread: every event with the monotonic time it arrived."""

    client: httpx.Client
    events: list[tuple[float, str, Any]] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def run(self) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the stream ends with its client or its server
            self._read()

    def _read(self) -> None:
        name = None
        with self.client.stream("GET", "/v1/events", timeout=httpx.Timeout(10.0, read=None)) as reply:
            for line in reply.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith(": connected"):
                    self.ready.set()
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name is not None:
                    with self.cond:
                        self.events.append((time.monotonic(), name, json.loads(line[6:])))
                        self.cond.notify_all()
                    name = None

    def wait_for(self, match: Any, timeout_s: float = WAIT_S) -> tuple[float, str, Any]:
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while True:
                for ev in self.events:
                    if match(ev[1], ev[2]):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event within {timeout_s} s; got {self.events}")
                self.cond.wait(left)


@pytest.fixture
def pair(pg_url: str, redis_url: str, tmp_path: Path) -> Iterator[Topology]:
    with topology(pg_url, redis_url, tmp_path, **SLOW_POLL) as top:
        top.serve(demo=True)
        top.serve()
        yield top


@contextlib.contextmanager
def listening(client: httpx.Client) -> Iterator[Listener]:
    listener = Listener(client)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    assert listener.ready.wait(WAIT_S), "the stream did not open"
    try:
        yield listener
    finally:
        listener.stop.set()
        client.close()  # ends the stream's read


def test_a_packet_sent_through_a_reaches_its_recipient_streaming_on_b(pair: Topology) -> None:
    a, b = pair.procs[0].base, pair.procs[1].base
    alice_on_a, bob_on_b = login(a, "alice"), login(b, "bob")
    bob_id = bob_on_b.get("/v1/me").json()["id"]
    with listening(bob_on_b) as bob_stream:
        sent_at = time.monotonic()
        reply = alice_on_a.post("/v1/packets", json={
            "kind": "personal", "recipient_id": bob_id, "amount_fen": 88, "greeting": "across processes",
        })  # fmt: skip
        assert reply.status_code == 201, reply.text
        packet_id = reply.json()["id"]
        arrived, _, _ = bob_stream.wait_for(
            lambda name, data: name == "message" and data.get("data", {}).get("packet_id") == packet_id
        )
        # Bob opens it through B; Alice, streaming on A, hears of it through A.
        with listening(login(a, "alice")) as alice_stream:
            opened = bob_on_b.post(f"/v1/packets/{packet_id}/open")
            assert opened.status_code == 200, opened.text
            assert opened.json()["amount_fen"] == 88
            alice_stream.wait_for(lambda name, data: name == "packet_opened" or (
                name == "message" and data.get("type") == "claim"))
    print(f"personal packet A -> stream on B: {1000 * (arrived - sent_at):.0f} ms")


def test_a_password_packet_made_on_a_tells_its_sender_streaming_on_b(pair: Topology) -> None:
    """Packets outside conversations are live events with no stored message: only the fan-out carries them."""
    a, b = pair.procs[0].base, pair.procs[1].base
    star_on_a = login(a, "alice")
    with listening(login(b, "alice")) as stream:
        reply = star_on_a.post("/v1/packets/password", json={
            "amount_each_fen": 50, "shares_count": 2, "split": "equal", "phrase": "恭喜发财 scaled",
            "greeting": "password across",
        })  # fmt: skip
        assert reply.status_code == 201, reply.text
        stream.wait_for(lambda name, data: name == "packet_sent" and data.get("packet_id") == reply.json()["id"])


def test_a_logout_on_b_refuses_the_token_on_a_at_once(pair: Topology) -> None:
    a, b = pair.procs[0].base, pair.procs[1].base
    on_a = login(a, "carol")
    assert on_a.get("/v1/me").status_code == 200  # A has checked (and would keep trusting) the token
    on_b = httpx.Client(base_url=b, headers=dict(on_a.headers), timeout=15.0)
    assert on_b.delete("/v1/sessions/current").status_code == 204
    deadline = time.monotonic() + WAIT_S
    while (status := on_a.get("/v1/me").status_code) == 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert status == 401, "A still accepts a token logged out on B (the revocation poll is a minute here)"
