"""The typed client (hongbao.client) against a live `hongbao serve`, sync and async, plus its retry policy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hongbao.client import ApiError, AsyncClient, Client, ops
from tests.e2e.server import DEMO_PASSWORD, running_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A live server (demo data: alice is an admin) and a host key made over the admin API."""
    data_dir: Path = tmp_path_factory.mktemp("client-live")
    with running_server(data_dir) as base, Client(base) as anonymous:
        admin = anonymous.logged_in("alice", DEMO_PASSWORD)
        made = admin.call(ops.request("POST", "/v1/admin/hosts", json={"name": "client-test"}))
        yield base, made["key"]["key"]


def test_a_host_moves_money_for_its_users_with_the_sync_client(live: tuple[str, str]) -> None:
    base, key = live
    with Client(base, host_key=key) as host:
        alice, bob = host.as_user("c-alice"), host.as_user("c-bob")
        alice_id, bob_id = alice.wallet().user_id, bob.wallet().user_id
        first = alice.top_up(10_000, idempotency_key="c-alice-topup")
        again = alice.top_up(10_000, idempotency_key="c-alice-topup")  # a retry: the first answer, no money
        assert again.payment_id == first.payment_id and alice.wallet().balance_fen == 10_000
        bob.request_friend(alice_id)
        alice.accept_friend(bob_id)
        packet = alice.send_personal(bob_id, 520, "新年快乐")
        assert packet.total_fen == 520 and packet.status == "active"
        assert bob.grab(packet.id).can_open
        assert bob.open_packet(packet.id).amount_fen == 520
        assert bob.packet(packet.id).claims is not None
        sent = alice.send_transfer(bob_id, 300, "房租")
        assert bob.accept_transfer(sent.id).status == "accepted"
        assert bob.wallet().balance_fen == 820 and alice.wallet().balance_fen == 10_000 - 820
        with pytest.raises(ApiError) as refused:
            bob.send_personal(alice_id, 1_000_000)
        assert refused.value.status == 422 and refused.value.code in ("insufficient_funds", "amount_too_large")
        figures = host.host_dashboard().figures
        assert figures.users_count == 2 and figures.packets_sent_fen == 520


def test_many_users_open_one_lucky_packet_at_once_with_the_async_client(live: tuple[str, str]) -> None:
    base, key = live

    async def go() -> None:
        async with AsyncClient(base, host_key=key) as host:
            sender = host.as_user("a-sender")
            members = [host.as_user(f"a-member-{i}") for i in range(6)]
            await sender.top_up(5_000)
            sender_id = (await sender.wallet()).user_id
            ids = []
            for member in members:
                ids.append((await member.wallet()).user_id)
                await member.request_friend(sender_id)
                await sender.accept_friend(ids[-1])
            group = await sender.create_group("lucky", ids)
            packet = await sender.send_group(group.id, 4, total_fen=888, greeting="恭喜发财")
            outcomes = await asyncio.gather(*(m.open_packet(packet.id) for m in members), return_exceptions=True)
            won = [o for o in outcomes if not isinstance(o, BaseException)]
            refused = [o for o in outcomes if isinstance(o, ApiError)]
            assert len(won) == 4 and sum(o.amount_fen for o in won) == 888
            assert len(refused) == 2 and {r.code for r in refused} == {"packet_exhausted"}
            assert (await sender.packet(packet.id)).status == "finished"

    asyncio.run(go())


def flaky(statuses: list[int], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Answers each request with the next status (the last one repeats), recording what was sent."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = statuses[min(len(seen), len(statuses)) - 1]
        body = {"packet_id": 1, "amount_fen": 5} if status == 200 else {"code": "store_unavailable", "detail": "x"}
        return httpx.Response(status, json=body, headers={"retry-after": "0"} if status == 503 else {})

    return httpx.MockTransport(handler)


def test_money_moving_calls_retry_with_one_idempotency_key_and_others_do_not_retry() -> None:
    seen: list[httpx.Request] = []
    with Client("http://hb", http=httpx.Client(base_url="http://hb", transport=flaky([503, 503, 200], seen)),
                backoff_s=0) as client:
        assert client.open_packet(1).amount_fen == 5
    keys = {r.headers["idempotency-key"] for r in seen}
    assert len(seen) == 3 and len(keys) == 1 and keys.pop().startswith("hbc-")
    seen.clear()
    with Client("http://hb", http=httpx.Client(base_url="http://hb", transport=flaky([503, 200], seen)),
                backoff_s=0) as client, pytest.raises(ApiError) as refused:
        client.request_friend(2)  # not idempotent: a 503 may have done it, so it is not sent twice
    assert len(seen) == 1 and refused.value.code == "store_unavailable"
    seen.clear()
    with Client("http://hb", http=httpx.Client(base_url="http://hb", transport=flaky([503, 503, 503, 503], seen)),
                backoff_s=0, retries=2) as client, pytest.raises(ApiError):
        client.wallet()  # a GET is retried, but not for ever
    assert len(seen) == 3
    assert json.loads(seen[0].content or b"null") is None
