"""The sweeper prunes what has run out: expired tokens and revocations, idempotency keys older than 24 h."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, insert, select

from hongbao.adapters.sql import schema as s
from hongbao.bootstrap import App
from hongbao.scheduler import Sweeper
from hongbao.service.idempotency import IdempotencyKey
from tests.conftest import FrozenClock


def rows(hb: App, table: str) -> int:
    return int(hb.store.read_sync(lambda tx: tx.conn.execute(select(func.count()).select_from(s.metadata.tables[table]))
                                  .scalar_one()))


def balance(hb: App, user_id: int) -> int:
    return asyncio.run(hb.wallet.balance(user_id))


def test_idempotency_keys_are_kept_24_hours_then_pruned_and_a_late_top_up_retry_still_pays_once(
    hb: App, clock: FrozenClock
) -> None:
    # given a top-up sent with an Idempotency-Key
    user = asyncio.run(hb.users.register("keeper", "a long enough passphrase"))
    key = IdempotencyKey.of(user, "top-up-1", "top_up", {"amount_fen": 500})
    first = asyncio.run(hb.wallet.top_up(user, 500, key))
    sweeper = Sweeper(hb)

    # when the sweeper prunes 23 hours later, a retry still gets the first answer and moves no money
    clock.advance(hours=23)
    asyncio.run(sweeper.prune())
    assert asyncio.run(hb.wallet.top_up(user, 500, key)) == first
    assert balance(hb, user) == 500

    # when it prunes after 24 hours, the stored reply is gone (a request with that key is new, as at Stripe)
    clock.advance(hours=1, seconds=1)
    pruned = asyncio.run(sweeper.prune())
    assert pruned["prune_idempotency_keys"] == 1 and rows(hb, "idempotency_keys") == 0
    # and yet a top-up retried that late still takes and books the money once: its channel reference comes from
    # the key and stays with the payment
    asyncio.run(hb.wallet.top_up(user, 500, key))
    assert balance(hb, user) == 500
    assert hb.deps.channel.charged_fen == 500  # type: ignore[attr-defined]


def test_expired_tokens_and_revocations_are_pruned_and_live_ones_kept(hb: App, clock: FrozenClock) -> None:
    user = asyncio.run(hb.users.register("sleeper", "a long enough passphrase"))
    now = clock.now()

    def seed(tx: object) -> None:
        conn = tx.conn  # type: ignore[attr-defined]
        for token_id, expires_in_h in (("old", -1), ("live", 1)):
            conn.execute(insert(s.tokens).values(id=token_id, secret_hash=b"x" * 32, user_id=user,
                                                 expires_at=now + timedelta(hours=expires_in_h), created_at=now))
            conn.execute(insert(s.token_revocations).values(token_id=f"r-{token_id}",
                                                            expires_at=now + timedelta(hours=expires_in_h)))

    hb.store.write_sync(seed)
    pruned = asyncio.run(Sweeper(hb).prune())

    assert pruned["prune_tokens"] == 1 and pruned["prune_revocations"] == 1
    assert rows(hb, "tokens") == 1 and rows(hb, "token_revocations") == 1


def test_a_pass_prunes_at_most_once_a_minute(hb: App) -> None:
    sweeper = Sweeper(hb)
    assert "prune_tokens" in asyncio.run(sweeper.run_once())
    assert "prune_tokens" not in asyncio.run(sweeper.run_once())
    assert "prune_tokens" in asyncio.run(sweeper.run_once(prune=True))
