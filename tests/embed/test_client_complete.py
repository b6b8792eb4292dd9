"""The typed client is complete and current: generated from the live OpenAPI document, a method for every operation
(sync and async), replies read into the API's own models, and a tour of the API against a live server."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hongbao.api.schemas import ClaimPublic, PacketPublic
from hongbao.client import ApiError, AsyncClient, Client, Event, generate, models, ops
from tests.e2e.server import DEMO_PASSWORD, running_server

WAIT_S = 30.0  # a guard against a hung test, never an assertion on speed


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return generate.live_schema()


def operation_ids(schema: dict[str, Any]) -> list[str]:
    return [op["operationId"] for item in schema["paths"].values() for op in item.values()]


def test_the_generated_client_and_its_reference_match_the_live_schema(schema: dict[str, Any]) -> None:
    code, reference = generate.generated(schema)
    assert generate.TARGET.read_text(encoding="utf-8") == code, "run: python -m hongbao.client.generate"
    assert generate.REFERENCE.read_text(encoding="utf-8") == reference, "run: python -m hongbao.client.generate"


def test_every_operation_has_a_sync_and_an_async_method_and_a_call(schema: dict[str, Any]) -> None:
    ids = operation_ids(schema)
    assert len(ids) > 90
    for op_id in ids:
        assert callable(getattr(Client, op_id, None)), op_id
        method = getattr(AsyncClient, op_id, None)
        assert inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method), op_id
        assert op_id in generate.HANDWRITTEN or callable(getattr(ops, op_id, None)), op_id


def test_the_client_reads_replies_into_the_apis_own_models_and_ignores_fields_it_does_not_know() -> None:
    reply = {
        "id": 7, "kind": "group", "split": "double_mean", "sender_id": 1, "group_id": 2, "recipient_id": None,
        "total_fen": 888, "shares_count": 2, "greeting": "", "status": "active", "claimed_count": 1,
        "claimed_fen": 500, "refunded_fen": 0, "created_at": "2026-01-01T00:00:00+00:00",
        "expires_at": "2026-01-02T00:00:00+00:00", "some_new_field": {"a": 1},
        "claims": [{"user_id": 3, "display_name": "c", "amount_fen": 500, "claimed_at": "x", "best_luck": False,
                    "sticker": "🧧"}],
    }
    packet = models.parse(PacketPublic, reply)
    assert type(packet) is PacketPublic and models.Packet is PacketPublic  # one definition: the API's
    assert packet.claims is not None and type(packet.claims[0]) is ClaimPublic
    assert packet.claims[0].amount_fen == 500 and not hasattr(packet, "some_new_field")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A live server (demo data: alice is an admin) and a host key made over the admin API by the client."""
    data_dir: Path = tmp_path_factory.mktemp("client-complete")
    with running_server(data_dir) as base, Client(base) as anonymous:
        admin = anonymous.logged_in("alice", DEMO_PASSWORD)
        made = admin.hosts_create("tour")
        assert made.key.key.startswith("hk_")
        yield base, made.key.key


def test_a_tour_of_the_api_with_the_generated_sync_methods(live: tuple[str, str]) -> None:
    base, key = live
    with Client(base) as anonymous, Client(base, host_key=key) as host:
        assert anonymous.ops_health().status == "ok"
        assert anonymous.ops_ready().database == "ok"
        assert "hongbao_" in anonymous.ops_prometheus_metrics()
        assert any(u.username == "alice" for u in anonymous.web_demo_users())
        anonymous.users_register("tour_nina", "correct horse battery", display_name="Nina")
        nina = anonymous.logged_in("tour_nina", "correct horse battery")
        assert nina.users_me().display_name == "Nina"
        assert nina.users_logout() is None
        with pytest.raises(ApiError) as gone:
            nina.users_me()
        assert gone.value.status == 401

        a, b = host.as_user("tour-a"), host.as_user("tour-b")
        a.wallet_top_up(10_000)
        a_id, b_id = a.wallet_balance().user_id, b.wallet_balance().user_id
        assert a.users_find(b.users_me().username).id == b_id
        assert a.social_request_friend(b_id).status == "pending"
        assert [u.id for u in b.social_friends().requests] == [a_id]
        b.social_accept_friend(a_id)
        group = a.social_create_group("tour", member_ids=[b_id])
        assert [g.id for g in a.social_my_groups()] == [group.id] and len(b.social_group(group.id).members) == 2
        assert a.followers_follow(b_id).following and a.followers_profile(b_id).followed_by_me
        assert [p.id for p in a.followers_following().following] == [b_id]
        assert not a.followers_unfollow(b_id).following

        talk = a.conversations_open(user_id=b_id)
        a.conversations_post_message(talk.id, "新年好")
        assert any(msg.text == "新年好" for msg in b.conversations_messages(talk.id, limit=10).messages)
        b.conversations_mark_read(talk.id)
        assert b.conversations_conversation(talk.id).unread_count == 0
        assert talk.id in [c.id for c in b.conversations_conversations(limit=5).conversations]

        lucky = a.packets_send({"kind": "group", "group_id": group.id, "split": "line_cut", "shares_count": 2,
                                "total_fen": 300})
        assert b.packets_grab(lucky.id).can_open and b.packets_open(lucky.id).packet_id == lucky.id
        assert a.packets_detail(lucky.id).claimed_count == 1
        assert [p.id for p in a.packets_group(group.id, limit=5).packets] == [lucky.id]

        face = a.packets_send_face_to_face("equal", 2, amount_each_fen=10)
        assert b.packets_open_by_code(face.code, x_client_channel="app").amount_fen == 10
        assert a.packets_secret(face.id).code == face.code
        assert a.packets_qr(face.id).startswith(b"\x89PNG")
        assert a.packets_share(face.id, "wechat").token
        assert a.packets_figures(face.id).packet_id == face.id
        word = a.packets_send_password("equal", 1, "步步高升", amount_each_fen=20)
        assert b.packets_open_by_phrase("步步高升").amount_fen == 20
        assert a.packets_card(word.id).startswith(b"\x89PNG")

        sent = a.transfers_send(b_id, 100, note="房租")
        assert b.transfers_accept(sent.id).status == "accepted"
        assert a.transfers_detail(sent.id).status == "accepted"
        assert [t.id for t in a.transfers_transfers(limit=5).transfers] == [sent.id]
        ask = b.asks_ask(to_user_id=a_id, amount_fen=50, message="求红包")
        assert [x.id for x in a.asks_asks().received] == [ask.id] and a.asks_detail(ask.id).id == ask.id
        assert a.asks_fulfil(ask.id).packet.total_fen == 50
        assert a.asks_update_settings(False).allow_asks is False and not a.asks_my_settings().allow_asks

        assert a.wallet_withdraw(100).status
        spent = 300 + 20 + 20 + 100 + 50 + 100  # lucky, face-to-face, password, transfer, ask, withdrawal
        assert a.wallet_balance_of(a_id).balance_fen == 10_000 - spent
        assert a.wallet_statement(limit=3).next_cursor is not None
        assert a.wallet_statement_of(a_id, limit=50).entries
        assert a.web_fairness(1000, 5, runs=100, algorithm="double_mean").shares == 5
        assert a.web_yearly_report().year
        assert a.campaigns_my().campaigns == [] and a.coupons_coupons().coupons == []
        assert a.merchants_my().merchants == [] and isinstance(a.shake_events().events, list)
        assert a.shake_nearby(31.23, 121.47).offers == []
        figures = host.hosts_dashboard().figures
        assert figures.users_count == 2 and figures.packets_sent_fen == 300 + 20 + 20 + 50


def test_the_async_client_streams_a_hosts_users_events(live: tuple[str, str]) -> None:
    base, key = live

    async def go() -> list[Event]:
        async with AsyncClient(base, host_key=key) as host:
            sender, listener = host.as_user("ev-sender"), host.as_user("ev-listener")
            await sender.wallet_top_up(1_000)
            listener_id = (await listener.wallet_balance()).user_id
            await listener.social_request_friend((await sender.wallet_balance()).user_id)
            await sender.social_accept_friend(listener_id)
            seen: list[Event] = []
            connected = asyncio.Event()

            async def listen() -> None:
                stream = listener.events()
                connected.set()
                async for event in stream:
                    seen.append(event)
                    if event.name == "packet_sent":
                        return

            task = asyncio.create_task(listen())
            await connected.wait()
            # The stream may not be subscribed yet when the first packet goes: send until one is heard.
            while not task.done():
                await sender.send_personal(listener_id, 1, "听到了吗")
                await asyncio.wait({task}, timeout=0.5)
            await asyncio.wait_for(task, WAIT_S)
            return seen

    seen = asyncio.run(asyncio.wait_for(go(), WAIT_S * 2))
    assert seen[-1].name == "packet_sent" and seen[-1].data["greeting"] == "听到了吗"
