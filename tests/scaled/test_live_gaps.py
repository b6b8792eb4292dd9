"""Live delivery with several writers (scaled mode): message ids can commit out of order across processes, so the
feed must not skip a message whose id is below one it already delivered (service/live_feed.py, LiveFeed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from hongbao.adapters.sql import schema_social as ss
from hongbao.bootstrap import App
from tests.service.helpers import befriend, register

WAIT_S = 10.0  # a guard against a hung test, never an assertion on speed


def test_a_message_committed_late_below_a_delivered_one_still_goes_out(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    befriend(hb, alice, bob)

    async def scenario() -> list[int]:
        conv = (await hb.conversations.with_friend(bob, alice))["id"]
        sub = await hb.live.subscribe(bob)
        first = (await hb.conversations.post_text(alice, conv, "one"))["id"]
        await hb.live.pump()

        def committed_by_another_process(mid: int) -> Callable[[Any], None]:
            """A message with an explicit id: what a second writer's commit gives, in the order the test wants."""

            def job(tx: Any) -> None:
                tx.conn.execute(insert(ss.messages).values(
                    id=mid, conversation_id=conv, sender_id=alice, type="text", body=f"m{mid}", data="{}",
                    created_at=datetime.now(UTC)))

            return job

        await hb.store.write(committed_by_another_process(first + 2))  # B's later id commits first
        await hb.live.pump()
        await hb.store.write(committed_by_another_process(first + 1))  # A's earlier id commits after it
        await hb.live.pump()
        got: list[int] = []
        while (event := await sub.next(0.5 if got else WAIT_S)) is not None:
            if event.name == "message" and event.id is not None:
                got.append(event.id)
        return got

    delivered = asyncio.run(scenario())

    assert sorted(delivered) == sorted(set(delivered))  # nothing twice
    assert set(delivered) >= {delivered[0], delivered[0] + 1, delivered[0] + 2}
