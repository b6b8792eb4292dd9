"""Live delivery: the in-process event bus, and the Server-Sent Events stream driven through the ASGI app."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from hongbao.adapters.events import DROPPED, Event, EventBus
from hongbao.api.app import create_app
from hongbao.bootstrap import App

WAIT_S = 20.0  # a guard against a hung test, never an assertion on speed


def test_published_event_reaches_every_stream_of_that_user_only() -> None:
    async def scenario() -> tuple[list[Event | None], Event | None]:
        bus = EventBus()
        phone, laptop, other = bus.subscribe(1), bus.subscribe(1), bus.subscribe(2)
        assert bus.publish(1, Event("message", {"text": "hi"}, 7)) == 2
        return [await phone.next(WAIT_S), await laptop.next(WAIT_S)], await other.next(0.01)

    mine, theirs = asyncio.run(scenario())

    assert [e.data["text"] for e in mine if e is not None] == ["hi", "hi"]
    assert theirs is None


def test_slow_subscriber_gives_dropped_and_is_unsubscribed() -> None:
    async def scenario() -> tuple[Event | None, bool, int]:
        bus = EventBus(queue_max=3)
        slow = bus.subscribe(1)
        for i in range(5):
            bus.publish(1, Event("message", {"n": i}))
        return await slow.next(WAIT_S), bus.has_subscribers(), bus.dropped_count

    first, still_subscribed, dropped = asyncio.run(scenario())

    assert first is DROPPED
    assert (still_subscribed, dropped) == (False, 1)


def test_event_published_from_another_thread_is_delivered_on_the_subscribers_loop() -> None:
    async def scenario() -> Event | None:
        bus = EventBus()
        sub = bus.subscribe(1)
        worker = threading.Thread(target=bus.publish, args=(1, Event("packet_sent", {"packet_id": 9})))
        worker.start()
        worker.join()
        return await sub.next(WAIT_S)

    got = asyncio.run(scenario())

    assert got is not None and got.data == {"packet_id": 9}


# ---------------------------------------------------------------------- the SSE endpoint through the ASGI app


class Stream:
    """One GET to the ASGI app, read chunk by chunk; `close()` is the browser going away."""

    def __init__(self, app: Any, path: str, query: str = "", headers: dict[str, str] | None = None) -> None:
        self.chunks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = asyncio.Event()
        self.text = ""
        self.status: int | None = None
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        }
        self.task = asyncio.create_task(app(scope, self._receive, self._send))
        self._asked = False

    async def _receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        await self.chunks.put(message)

    async def read_until(self, found: Callable[[str], bool]) -> str:
        """Read until `found(everything read so far)`; the stream must not end first."""
        while not found(self.text):
            message = await asyncio.wait_for(self.chunks.get(), WAIT_S)
            if message["type"] == "http.response.start":
                self.status = message["status"]
                continue
            self.text += message.get("body", b"").decode()
            assert message.get("more_body", False) or found(self.text), f"stream ended: {self.text!r}"
        return self.text

    async def close(self) -> None:
        self.gone.set()
        await asyncio.wait_for(self.task, WAIT_S)


async def _users(hb: App) -> tuple[int, int, str]:
    """Two friends with money; the token of the first."""
    a = await hb.users.register("alice", "correct horse battery")
    b = await hb.users.register("bob", "correct horse battery")
    await hb.social.request_friend(a, b)
    await hb.social.accept_friend(b, a)
    await hb.wallet.top_up(b, 10_000)
    return a, b, (await hb.users.issue_token(a)).token


def _events(text: str, name: str) -> list[str]:
    return [block for block in text.split("\n\n") if block.startswith(f"event: {name}\n")]


def test_event_stream_gives_the_packet_bubble_and_the_opened_count_live(hb: App) -> None:
    async def scenario() -> tuple[str, bool]:
        alice, bob, token = await _users(hb)
        stream = Stream(create_app(hb, scheduler=False), "/v1/events", headers={"Authorization": f"Bearer {token}"})
        await stream.read_until(lambda t: ": connected" in t)
        # When bob sends alice a packet and she opens it.
        sent = await hb.packets.send_personal(bob, alice, 520, "我爱你")
        await stream.read_until(lambda t: bool(_events(t, "packet_sent")))
        await hb.packets.open(sent["id"], alice)
        text = await stream.read_until(lambda t: bool(_events(t, "packet_opened")))
        await stream.close()
        assert stream.status == 200
        return text, hb.live.bus.has_subscribers()

    text, still_listening = asyncio.run(scenario())

    # Then the stream carried both messages and both packet events, and ended when the client left.
    assert len(_events(text, "message")) == 2
    assert '"claimed_count":1' in _events(text, "packet_opened")[0]
    assert '"greeting":"我爱你"' in _events(text, "packet_sent")[0]
    assert still_listening is False


def test_event_stream_takes_a_query_token_and_sends_heartbeats(hb: App) -> None:
    hb.settings.events_heartbeat_s = 0.05
    hb.settings.events_poll_s = 0.05

    async def scenario() -> str:
        _, _, token = await _users(hb)
        stream = Stream(create_app(hb, scheduler=False), "/v1/events", query=f"token={token}")
        text = await stream.read_until(lambda t: ": heartbeat" in t)
        await stream.close()
        return text

    assert asyncio.run(scenario()).startswith("retry: 3000\n: connected")


def test_event_stream_without_a_valid_token_gives_401(hb: App) -> None:
    async def scenario(query: str) -> tuple[int | None, str]:
        stream = Stream(create_app(hb, scheduler=False), "/v1/events", query=query)
        text = await stream.read_until(lambda t: t.endswith("}"))
        await stream.close()
        return stream.status, text

    for query in ("", "token=nope.nope"):
        status, body = asyncio.run(scenario(query))
        assert status == 401 and '"code":"token_' in body, (query, body)


def test_notice_posted_by_another_job_reaches_listeners_without_a_poke(hb: App) -> None:
    from hongbao.service.conversations import conversation_for_pair, post_system_notice

    hb.settings.events_poll_s = 0.05

    async def scenario() -> str:
        alice, bob, token = await _users(hb)
        stream = Stream(create_app(hb, scheduler=False), "/v1/events", query=f"token={token}")
        await stream.read_until(lambda t: ": connected" in t)

        def job(tx: Any) -> int:  # what another area (relay, asks) does inside its own job
            cid = conversation_for_pair(tx, alice, bob, now=hb.deps.clock.now())
            return post_system_notice(tx, cid, "Bob asks you for a red packet", {"ask_id": 1}, now=hb.deps.clock.now())

        await hb.store.write(job)
        text = await stream.read_until(lambda t: "asks you" in t)
        await stream.close()
        return text

    assert '"ask_id":1' in asyncio.run(scenario())
