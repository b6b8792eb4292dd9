"""Conversations under concurrency, and the functions other areas call inside their jobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.service.conversations import conversation_for_group, conversation_for_pair, post_system_notice
from hongbao.service.reconcile import reconcile

PASSWORD = "correct horse battery"


async def _family(app: App, size: int) -> list[int]:
    ids = [await app.users.register(f"member{i}", PASSWORD) for i in range(size)]
    for other in ids[1:]:
        await app.social.request_friend(ids[0], other)
        await app.social.accept_friend(other, ids[0])
    return ids


async def _all_messages(app: App, user_id: int, conversation_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: int | None = None
    while True:
        page = await app.conversations.messages(user_id, conversation_id, cursor, 100)
        found.extend(page["messages"])
        if page["next_cursor"] is None:
            return found
        cursor = int(page["next_cursor"])


def test_racing_opens_give_one_claim_notice_per_claim_and_one_best_luck(hb: App) -> None:
    async def scenario() -> tuple[list[object], list[dict[str, Any]]]:
        # Given a group of 30 and a lucky packet of 10 shares.
        ids = await _family(hb, 30)
        group = await hb.social.create_group(ids[0], "抢红包", ids[1:])
        await hb.wallet.top_up(ids[0], 10_000)
        sent = await hb.packets.send_group(ids[0], group["id"], how="double_mean", shares_count=10, total_fen=5_000)

        # When all 29 others open it at the same moment (group commit makes it one race at the store).
        async def try_open(uid: int) -> object:
            try:
                return await hb.packets.open(sent["id"], uid)
            except HongbaoError as exc:
                return exc.code

        results = await asyncio.gather(*(try_open(uid) for uid in ids[1:]))
        conversation = await hb.conversations.of_group(ids[0], group["id"])
        return results, await _all_messages(hb, ids[0], conversation["id"])

    results, messages = asyncio.run(scenario())

    # Then ten won, and the conversation holds the bubble, ten claim notices (counts 1..10), one best luck.
    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) == 10
    kinds = Counter(m["type"] for m in messages)
    assert kinds == {"packet": 1, "claim": 10, "best_luck": 1}
    claims = [m for m in messages if m["type"] == "claim"]
    assert sorted(m["data"]["claimed_count"] for m in claims) == list(range(1, 11))
    assert len({m["data"]["user_id"] for m in claims}) == 10
    best = next(m for m in messages if m["type"] == "best_luck")["data"]
    assert best["amount_fen"] == max(w["amount_fen"] for w in winners)
    assert messages[0]["type"] == "best_luck"  # newest first: it came with the last claim
    assert reconcile(hb.store).violations == []


def test_concurrent_first_use_gives_one_conversation_per_pair_and_per_group(hb: App) -> None:
    async def scenario() -> tuple[set[int], set[int]]:
        alice, bob = await _family(hb, 2)
        group = await hb.social.create_group(alice, "两个人", [bob])
        pairs = await asyncio.gather(*(hb.conversations.with_friend(a, b) for a, b in [(alice, bob), (bob, alice)] * 5))
        groups = await asyncio.gather(*(hb.conversations.of_group(u, group["id"]) for u in [alice, bob] * 5))
        return {c["id"] for c in pairs}, {c["id"] for c in groups}

    pair_ids, group_ids = asyncio.run(scenario())

    assert len(pair_ids) == 1 and len(group_ids) == 1
    assert pair_ids != group_ids


def test_notice_posted_inside_another_job_rolls_back_with_it(hb: App) -> None:
    async def scenario() -> list[str]:
        alice, bob = await _family(hb, 2)
        group = await hb.social.create_group(alice, "接龙", [bob])
        now = hb.deps.clock.now()

        def kept(tx: Any) -> None:
            post_system_notice(
                tx,
                conversation_for_group(tx, group["id"], now=now),
                "Bob owes the next packet",
                {"relay_id": 1},
                now=now,
            )

        def failed(tx: Any) -> None:
            post_system_notice(tx, conversation_for_pair(tx, alice, bob, now=now), "never seen", now=now)
            raise HongbaoError("the job's own refusal", code="refused")

        await hb.store.write(kept)
        with contextlib.suppress(HongbaoError):
            await hb.store.write(failed)
        listed = await hb.conversations.of_user(bob)
        return [c["last_message"]["text"] for c in listed["conversations"] if c["last_message"]]

    assert asyncio.run(scenario()) == ["Bob owes the next packet"]
