"""Races on open packets: many users at once, one user against themselves, concurrent guesses and sends.

Opens are submitted together with asyncio.gather, so group commit settles them in the same write
transactions: real races at the store.  The `hb` fixture checks every ledger invariant afterwards.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError


async def _users(app: App, prefix: str, n: int) -> list[int]:
    return list(await asyncio.gather(*(app.users.register(f"{prefix}_{i}", "correct horse battery") for i in range(n))))


async def _sender(app: App, fen: int) -> int:
    uid = await app.users.register("sender", "correct horse battery")
    await app.wallet.top_up(uid, fen)
    return uid


def _outcomes(results: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results:
        key = r.code if isinstance(r, HongbaoError) else "won"
        assert isinstance(r, dict | HongbaoError), r  # never a bug
        counts[key] = counts.get(key, 0) + 1
    return counts


def _claims_sum(app: App, packet_id: int) -> tuple[int, int, set[int]]:
    claims = app.store.read_sync(lambda tx: tx.claims_of(packet_id))
    return len(claims), sum(c.amount_fen for c in claims), {c.user_id for c in claims}


def test_many_users_racing_one_face_to_face_packet_give_exactly_its_shares_summing_to_its_total(hb):
    async def scene() -> tuple[dict[str, Any], list[Any]]:
        sender = await _sender(hb, 10_000)
        packet = await hb.open_kinds.send_face_to_face(sender, how="double_mean", shares_count=20, total_fen=2_000)
        racers = await _users(hb, "racer", 60)
        results = await asyncio.gather(
            *(hb.open_kinds.open_by_code(u, packet["code"], address=f"10.0.0.{u}") for u in racers),
            return_exceptions=True,
        )
        return packet, list(results)

    packet, results = asyncio.run(scene())
    assert _outcomes(results) == {"won": 20, "packet_exhausted": 40}
    count, total, winners = _claims_sum(hb, packet["id"])
    assert (count, total, len(winners)) == (20, 2_000, 20)
    assert sum(r["amount_fen"] for r in results if isinstance(r, dict)) == 2_000


def test_many_users_racing_one_password_packet_give_exactly_its_shares_summing_to_its_total(hb):
    async def scene() -> tuple[dict[str, Any], list[Any]]:
        sender = await _sender(hb, 100_000)
        packet = await hb.open_kinds.send_password(sender, phrase="万事如意", how="line_cut", shares_count=50,
                                                   total_fen=5_000)
        racers = await _users(hb, "racer", 120)
        results = await asyncio.gather(
            *(hb.open_kinds.open_by_phrase(u, " 万事如意 ", address=f"10.0.{u}.1") for u in racers),
            return_exceptions=True,
        )
        return packet, list(results)

    packet, results = asyncio.run(scene())
    assert _outcomes(results) == {"won": 50, "packet_exhausted": 70}
    assert _claims_sum(hb, packet["id"])[:2] == (50, 5_000)


def test_one_user_racing_themselves_gets_one_share_only(hb):
    async def scene() -> tuple[dict[str, Any], list[Any], int]:
        sender = await _sender(hb, 10_000)
        packet = await hb.open_kinds.send_face_to_face(sender, how="equal", shares_count=5, amount_each_fen=100)
        (me,) = await _users(hb, "me", 1)
        results = await asyncio.gather(
            *(hb.open_kinds.open_by_code(me, packet["code"], address="10.0.0.1") for _ in range(8)),
            return_exceptions=True,
        )
        return packet, list(results), me

    packet, results, me = asyncio.run(scene())
    outcomes = _outcomes(results)
    assert outcomes["won"] == 1 and outcomes["won"] + outcomes.get("already_claimed", 0) == 8
    assert _claims_sum(hb, packet["id"]) == (1, 100, {me})
    assert asyncio.run(hb.wallet.balance(me)) == 100


def test_concurrent_wrong_guesses_by_one_user_give_at_most_the_limit_of_answers(hb):
    async def scene() -> list[Any]:
        sender = await _sender(hb, 10_000)
        packet = await hb.open_kinds.send_face_to_face(sender, how="equal", shares_count=1, amount_each_fen=100)
        (guesser,) = await _users(hb, "guesser", 1)
        wrongs = [f"{(int(packet['code']) + i) % 1_000_000:06d}" for i in range(1, 31)]
        return list(await asyncio.gather(
            *(hb.open_kinds.open_by_code(guesser, w, address=f"10.1.0.{i}") for i, w in enumerate(wrongs)),
            return_exceptions=True,
        ))

    results = asyncio.run(scene())
    assert _outcomes(results) == {"wrong_code": 10, "too_many_attempts": 20}


def test_concurrent_wrong_guesses_from_one_address_give_at_most_its_limit_of_answers(hb):
    async def scene() -> list[Any]:
        sender = await _sender(hb, 10_000)
        await hb.open_kinds.send_password(sender, phrase="正确口令", how="equal", shares_count=1, amount_each_fen=100)
        guessers = await _users(hb, "guesser", 70)
        return list(await asyncio.gather(
            *(hb.open_kinds.open_by_phrase(g, f"猜{g}", address="203.0.113.9") for g in guessers),
            return_exceptions=True,
        ))

    results = asyncio.run(scene())
    assert _outcomes(results) == {"wrong_phrase": 50, "too_many_attempts": 20}


def test_two_senders_racing_for_one_phrase_give_one_packet_and_one_phrase_taken(hb):
    async def scene() -> list[Any]:
        a, b = await _sender(hb, 10_000), await hb.users.register("other", "correct horse battery")
        await hb.wallet.top_up(b, 10_000)
        return list(await asyncio.gather(
            *(hb.open_kinds.send_password(u, phrase="一马当先", how="equal", shares_count=2, amount_each_fen=100)
              for u in (a, b, a, b)),
            return_exceptions=True,
        ))

    results = asyncio.run(scene())
    assert _outcomes(results) == {"won": 1, "phrase_taken": 3}


def test_many_followers_racing_a_celebrity_packet_give_exactly_its_shares(hb):
    async def scene() -> tuple[dict[str, Any], list[Any]]:
        star = await _sender(hb, 1_000_000)
        hb.store.write_sync(lambda tx: tx.set_verified_as(star, "celebrity"))
        fans = await _users(hb, "fan", 150)
        now = hb.deps.clock.now()
        await hb.store.write(lambda tx: [tx.follow(f, star, now) for f in fans[:140]])
        packet = await hb.open_kinds.send_celebrity(star, how="double_mean", shares_count=120, total_fen=12_000)
        results = await asyncio.gather(*(hb.packets.open(packet["id"], f) for f in fans), return_exceptions=True)
        return packet, list(results)

    packet, results = asyncio.run(scene())
    assert _outcomes(results) == {"won": 120, "packet_exhausted": 20, "not_follower": 10}
    assert _claims_sum(hb, packet["id"])[:2] == (120, 12_000)
