"""Signed webhooks: written in the money's transaction, delivered after the receiver comes back, once each and in
order per packet, verifiable with `hongbao.webhooks.verify`, replayable."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from hongbao import webhooks
from hongbao.adapters.sql.schema_hosts import webhook_outbox
from hongbao.bootstrap import App
from tests.api.conftest import TestClient
from tests.conftest import FrozenClock
from tests.embed.conftest import Host
from tests.embed.receiver import Receiver
from tests.embed.test_hosts_http import befriend, fund

PORT = 8531


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(PORT)
    yield r
    r.stop()


def outbox_count(hb: App) -> int:
    with hb.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(webhook_outbox)).scalar_one())


def deliver_until_done(hb: App, clock: FrozenClock, passes_max: int = 40) -> None:
    """Run the delivery sweep as the scheduler would, the clock moving past each backoff."""
    for _ in range(passes_max):
        asyncio.run(hb.webhooks.deliver_due())
        if not asyncio.run(hb.webhooks.list(None, "pending", 1)):
            return
        clock.advance(seconds=hb.settings.webhook_backoff_max_s)
    raise AssertionError("webhooks still pending")


def test_webhooks_survive_a_receiver_that_is_down_then_arrive_once_in_order_and_verify(
    client: TestClient, new_host: Callable[..., Host], hb: App, clock: FrozenClock, receiver: Receiver
) -> None:
    host = new_host("chatapp")
    secret = asyncio.run(hb.webhooks.set_endpoint(host.id, receiver.url))
    assert secret is not None
    fund(client, host, "alice", 10_000)  # payment.settled
    alice_id, bob_id = befriend(client, host, "alice", "bob")
    _, carol_id = befriend(client, host, "alice", "carol")
    group = client.post("/v1/groups", json={"name": "family", "member_ids": [bob_id, carol_id]},
                        headers=host.as_user("alice")).json()
    lucky = client.post("/v1/packets", json={"kind": "group", "group_id": group["id"], "split": "double_mean",
                                             "shares_count": 2, "total_fen": 888, "greeting": "恭喜发财"},
                        headers=host.as_user("alice")).json()
    for who in ("bob", "carol"):
        assert client.post(f"/v1/packets/{lucky['id']}/open", headers=host.as_user(who)).status_code == 200
    left = client.post("/v1/packets", json={"kind": "personal", "recipient_id": bob_id, "amount_fen": 300},
                       headers=host.as_user("alice")).json()
    transfer = client.post("/v1/transfers", json={"to_user_id": bob_id, "amount_fen": 200},
                           headers=host.as_user("alice")).json()
    assert client.post(f"/v1/transfers/{transfer['id']}/accept", headers=host.as_user("bob")).status_code == 200
    clock.advance(hours=25)
    assert asyncio.run(hb.packets.expire_due()) == 1  # the personal packet nobody opened: refunded

    # The receiver is down: every attempt fails and is retried later; nothing is lost.
    for _ in range(3):
        assert asyncio.run(hb.webhooks.deliver_due()) == 0
        clock.advance(seconds=hb.settings.webhook_backoff_max_s)
    pending = asyncio.run(hb.webhooks.list(host.id, "pending", 100))
    assert pending and all(m["last_error"] for m in pending if m["attempts"])
    receiver.start()
    deliver_until_done(hb, clock)

    written = list(reversed(asyncio.run(hb.webhooks.list(host.id, None, 100))))  # oldest first
    ids = [r.headers["webhook-id"] for r in receiver.got]
    assert sorted(ids) == sorted(m["msg_id"] for m in written)  # each message once
    events = [webhooks.verify(secret, r.headers, r.body) for r in receiver.got]  # signed with the host's secret
    by_stream: dict[str, list[str]] = {}
    for received, event in zip(receiver.got, events, strict=True):
        stream = next(m["stream"] for m in written if m["msg_id"] == received.headers["webhook-id"])
        by_stream.setdefault(stream, []).append(event["type"])
    assert by_stream[f"packet:{lucky['id']}"] == ["packet.sent", "packet.opened", "packet.opened", "packet.finished"]
    assert by_stream[f"packet:{left['id']}"] == ["packet.sent", "packet.expired"]
    assert by_stream[f"transfer:{transfer['id']}"] == ["transfer.created", "transfer.accepted"]
    assert [t for s, t in by_stream.items() if s.startswith("payment:")] == [["payment.settled"]]
    expired = next(e for e in events if e["type"] == "packet.expired")
    assert expired["data"]["refunded_fen"] == 300 and expired["data"]["sender"] == {
        "user_id": alice_id, "external_id": "alice"}
    finished = next(e for e in events if e["type"] == "packet.finished")
    assert finished["data"]["claimed_fen"] == 888

    # Replayed on request: the same id again (a receiver deduplicates by it).
    first = written[0]["msg_id"]
    assert asyncio.run(hb.webhooks.replay(first))
    deliver_until_done(hb, clock)
    assert [r.headers["webhook-id"] for r in receiver.got].count(first) == 2

    # A week on, delivered messages are pruned; the outbox does not grow for ever.
    clock.advance(days=8)
    assert asyncio.run(hb.webhooks.prune(force=True)) == len(written)
    assert asyncio.run(hb.webhooks.list(host.id, None, 100)) == []


def test_a_refused_send_writes_no_webhook(
    client: TestClient, new_host: Callable[..., Host], hb: App, receiver: Receiver
) -> None:
    host = new_host("strict", daily_volume_fen_max=100)
    asyncio.run(hb.webhooks.set_endpoint(host.id, receiver.url))
    fund(client, host, "a", 1_000)
    _, b_id = befriend(client, host, "a", "b")
    before = outbox_count(hb)
    refused = client.post("/v1/packets", json={"kind": "personal", "recipient_id": b_id, "amount_fen": 500},
                          headers=host.as_user("a"))
    assert refused.status_code == 429
    assert outbox_count(hb) == before  # the outbox row went with the money: neither happened


def test_a_host_without_a_webhook_url_gets_no_messages(client: TestClient, new_host: Callable[..., Host],
                                                       hb: App) -> None:
    host = new_host("quiet")
    fund(client, host, "a", 1_000)
    assert outbox_count(hb) == 0


def test_verify_refuses_a_changed_body_a_wrong_secret_and_an_old_message() -> None:
    secret = webhooks.new_secret()
    body = json.dumps({"type": "packet.sent", "data": {"packet_id": 1}}).encode()
    headers = webhooks.headers(secret, "msg_1", body, now_s=1_000_000)
    assert webhooks.verify(secret, headers, body, now_s=1_000_010)["type"] == "packet.sent"
    for wrong_secret, wrong_body, at in ((secret, body.replace(b"1", b"2"), 1_000_010),
                                         (webhooks.new_secret(), body, 1_000_010),
                                         (secret, body, 1_000_000 + webhooks.TOLERANCE_S + 1)):
        with pytest.raises(webhooks.WebhookVerificationError):
            webhooks.verify(wrong_secret, headers, wrong_body, now_s=at)


def test_a_host_whose_endpoint_is_down_does_not_hold_back_another_hosts_webhooks(
    client: TestClient, new_host: Callable[..., Host], hb: App, clock: FrozenClock, receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hongbao.service import webhooks as service

    monkeypatch.setattr(service, "HEADS_MAX", 2)  # fewer streams a round than host A has waiting
    down, up = new_host("down"), new_host("up")
    asyncio.run(hb.webhooks.set_endpoint(down.id, "http://127.0.0.1:8533/nobody-listens"))
    asyncio.run(hb.webhooks.set_endpoint(up.id, receiver.url))
    for i in range(4):  # four payment streams of host A, written first
        fund(client, down, f"a{i}", 100)
    fund(client, up, "b", 100)
    receiver.start()
    for _ in range(3):  # A's heads fail and wait out their backoff; B's message goes in a later round
        asyncio.run(hb.webhooks.deliver_due())
        clock.advance(seconds=1)
    assert [json.loads(r.body)["data"]["user"]["external_id"] for r in receiver.got] == ["b"]
    assert len(asyncio.run(hb.webhooks.list(down.id, "pending", 100))) == 4


def test_a_webhook_url_may_not_point_at_a_link_local_or_unspecified_address(
    new_host: Callable[..., Host], hb: App
) -> None:
    from hongbao.domain.errors import Rejected

    host = new_host("curious")
    for url in ("http://169.254.169.254/latest/meta-data", "http://0.0.0.0:8535/", "http://[fe80::1]/",
                "file:///etc/passwd", "gopher://127.0.0.1/"):
        with pytest.raises(Rejected):
            asyncio.run(hb.webhooks.set_endpoint(host.id, url))
    assert asyncio.run(hb.webhooks.set_endpoint(host.id, "http://127.0.0.1:8535/hooks"))  # same machine: allowed

