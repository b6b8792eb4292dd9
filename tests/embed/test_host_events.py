"""The live event stream for a host app: its key streams its own user's events, and only theirs."""

from __future__ import annotations

import asyncio

from hongbao.api.app import create_app
from hongbao.bootstrap import App
from tests.social.test_live_events import Stream, _events


def _as(key: str, external_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-On-Behalf-Of": external_id}


def test_a_hosts_user_gets_their_events_and_another_hosts_key_gets_none_of_them(hb: App) -> None:
    hb.settings.events_heartbeat_s = 0.05
    hb.settings.events_poll_s = 0.05

    async def scenario() -> tuple[str, str, int | None]:
        a = (await hb.hosts.create("host-a"))["key"]["key"]
        b = (await hb.hosts.create("host-b"))["key"]["key"]
        alice = await hb.hosts.acting_user(a, "alice", "POST")
        bob = await hb.hosts.acting_user(a, "bob", "POST")
        await hb.social.request_friend(alice, bob)
        await hb.social.accept_friend(bob, alice)
        await hb.wallet.top_up(alice, 1_000)
        app = create_app(hb, scheduler=False)
        # Host A's bob, and host B's key naming the same external id (its own, other person).
        mine = Stream(app, "/v1/events", headers=_as(a, "bob"))
        theirs = Stream(app, "/v1/events", headers=_as(b, "bob"))
        await mine.read_until(lambda t: ": connected" in t)
        await theirs.read_until(lambda t: ": connected" in t)
        await hb.packets.send_personal(alice, bob, 88, "恭喜发财")
        got = await mine.read_until(lambda t: bool(_events(t, "packet_sent")))
        # Published to every subscriber at once: had B's stream been told, it would be queued before its heartbeat.
        seen = await theirs.read_until(lambda t: ": heartbeat" in t)
        await mine.close()
        await theirs.close()
        return got, seen, mine.status

    got, seen, status = asyncio.run(scenario())

    assert status == 200
    assert '"greeting":"恭喜发财"' in _events(got, "packet_sent")[0]
    assert _events(seen, "packet_sent") == [] and _events(seen, "message") == []


def test_a_host_key_streams_only_from_the_header_with_a_user_named(hb: App) -> None:
    async def scenario(query: str, headers: dict[str, str]) -> tuple[int | None, str]:
        stream = Stream(create_app(hb, scheduler=False), "/v1/events", query=query, headers=headers)
        text = await stream.read_until(lambda t: t.endswith("}"))
        await stream.close()
        return stream.status, text

    key = asyncio.run(hb.hosts.create("host-q"))["key"]["key"]
    for query, headers, code in (
        (f"token={key}", {}, "token_invalid"),  # a long-lived key in a URL is refused, not used
        ("", {"Authorization": f"Bearer {key}"}, "on_behalf_of_missing"),
        ("", _as("hk_nope_nope", "bob"), "host_key_invalid"),
    ):
        status, body = asyncio.run(scenario(query, headers))
        assert status == 401 and f'"code":"{code}"' in body, (query, body)
