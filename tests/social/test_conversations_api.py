"""Conversations over HTTP: packets appear as bubbles with claim notices, best luck, refunds; text; access."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from hongbao.bootstrap import App
from tests.api.conftest import TestClient, User, assert_problem, befriend, make_group, send_lucky, send_personal, top_up
from tests.conftest import FrozenClock


def _conversation_with(client: TestClient, user: User, friend: User) -> dict[str, Any]:
    response = client.post("/v1/conversations", json={"user_id": friend.id}, headers=user.headers)
    assert response.status_code == 200, response.text
    conversation: dict[str, Any] = response.json()
    return conversation


def _messages(client: TestClient, user: User, conversation_id: int, **params: str) -> dict[str, Any]:
    response = client.get(f"/v1/conversations/{conversation_id}/messages", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_personal_packet_gives_a_bubble_and_a_claim_notice_in_the_pair_conversation(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given two friends, one with money.
    grandma, ming = new_user("grandma"), new_user("ming")
    befriend(client, grandma, ming)
    top_up(client, grandma, 10_000)

    # When grandma sends ming a packet, says something, and ming opens it.
    packet = send_personal(client, grandma, ming, 888)
    conversation = _conversation_with(client, ming, grandma)
    said = client.post(
        f"/v1/conversations/{conversation['id']}/messages", json={"text": " 新年快乐！ "}, headers=grandma.headers
    )
    opened = client.post(f"/v1/packets/{packet['id']}/open", headers=ming.headers)

    # Then the conversation holds, newest first: the claim notice, the text, the packet bubble.
    assert said.status_code == 201 and said.json()["text"] == "新年快乐！"
    assert opened.status_code == 200, opened.text
    messages = _messages(client, ming, conversation["id"])["messages"]
    assert [m["type"] for m in messages] == ["claim", "text", "packet"]
    claim, _, bubble = messages
    assert bubble["sender_id"] == grandma.id and bubble["data"]["packet_id"] == packet["id"]
    assert (bubble["data"]["kind"], bubble["text"]) == ("personal", packet["greeting"])
    assert claim["data"] == {
        "event": "packet_opened",
        "packet_id": packet["id"],
        "user_id": ming.id,
        "sender_id": grandma.id,
        "claimed_count": 1,
        "shares_count": 1,
        "status": "finished",
    }
    assert "opened" in claim["text"] and claim["sender_id"] is None
    # And both see the same conversation in their list, with the peer and the last message.
    listed = client.get("/v1/conversations", headers=grandma.headers).json()["conversations"]
    assert [(c["id"], c["peer"]["id"], c["last_message"]["type"]) for c in listed] == [
        (conversation["id"], ming.id, "claim")
    ]


def test_lucky_group_packet_gives_claim_notices_and_one_best_luck_notice(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given a group of four and a lucky packet of three shares.
    mum, *kids = [new_user(n) for n in ("mum", "ming", "hong", "li")]
    group_id = make_group(client, mum, kids)
    top_up(client, mum, 10_000)
    packet = send_lucky(client, mum, group_id, total_fen=1_000, shares_count=3)

    # When the three kids open it.
    amounts = {}
    for kid in kids:
        reply = client.post(f"/v1/packets/{packet['id']}/open", headers=kid.headers)
        assert reply.status_code == 200, reply.text
        amounts[kid.id] = reply.json()["amount_fen"]

    # Then the group conversation shows the bubble, three claim notices with rising counts, and best luck.
    conversation = client.post("/v1/conversations", json={"group_id": group_id}, headers=kids[0].headers).json()
    assert conversation["kind"] == "group" and conversation["title"] == "相亲相爱一家人"
    oldest_first = list(reversed(_messages(client, mum, conversation["id"])["messages"]))
    assert [m["type"] for m in oldest_first] == ["packet", "claim", "claim", "claim", "best_luck"]
    assert [m["data"]["claimed_count"] for m in oldest_first[1:4]] == [1, 2, 3]
    best = oldest_first[-1]["data"]
    assert best["amount_fen"] == max(amounts.values()) == amounts[best["user_id"]]


def test_expired_packet_gives_a_refund_notice(
    client: TestClient, hb: App, clock: FrozenClock, new_user: Callable[..., User]
) -> None:
    # Given a group packet of which one share of three was opened.
    uncle, ming, hong = new_user("uncle"), new_user("ming"), new_user("hong")
    group_id = make_group(client, uncle, [ming, hong])
    top_up(client, uncle, 10_000)
    packet = send_lucky(client, uncle, group_id, total_fen=900, shares_count=3)
    got = client.post(f"/v1/packets/{packet['id']}/open", headers=ming.headers).json()["amount_fen"]

    # When it expires (the app's scheduler is off: expire through the service).
    clock.advance(hours=25)
    assert asyncio.run(hb.packets.expire_due()) == 1

    # Then the newest message is a system notice with the refund.
    cid = client.post("/v1/conversations", json={"group_id": group_id}, headers=hong.headers).json()["id"]
    newest = _messages(client, hong, cid, limit="1")["messages"][0]
    assert newest["type"] == "system"
    assert newest["data"]["event"] == "packet_expired"
    assert newest["data"]["refunded_fen"] == 900 - got
    assert "refunded" in newest["text"]


def test_messages_page_newest_first_with_a_cursor(client: TestClient, new_user: Callable[..., User]) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    cid = _conversation_with(client, alice, bob)["id"]
    for i in range(5):
        client.post(f"/v1/conversations/{cid}/messages", json={"text": f"m{i}"}, headers=alice.headers)

    first = _messages(client, bob, cid, limit="2")
    second = _messages(client, bob, cid, limit="2", cursor=first["next_cursor"])
    last = _messages(client, bob, cid, limit="2", cursor=second["next_cursor"])

    texts = [m["text"] for page in (first, second, last) for m in page["messages"]]
    assert texts == ["m4", "m3", "m2", "m1", "m0"]
    assert last["next_cursor"] is None
    assert_problem(
        client.get(f"/v1/conversations/{cid}/messages", params={"cursor": "x"}, headers=bob.headers),
        422,
        "invalid_cursor",
    )


def test_unread_count_counts_others_messages_until_marked_read(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    cid = _conversation_with(client, alice, bob)["id"]
    for text in ("hi", "are you there?"):
        client.post(f"/v1/conversations/{cid}/messages", json={"text": text}, headers=alice.headers)

    def unread(user: User) -> int:
        value: int = client.get("/v1/conversations", headers=user.headers).json()["conversations"][0]["unread_count"]
        return value

    assert (unread(alice), unread(bob)) == (0, 2)
    marked = client.post(f"/v1/conversations/{cid}/read", headers=bob.headers)
    assert marked.status_code == 200, marked.text
    assert unread(bob) == 0
    client.post(f"/v1/conversations/{cid}/messages", json={"text": "新年好"}, headers=alice.headers)
    assert unread(bob) == 1


def test_outsiders_get_404_and_refusals_give_their_codes(client: TestClient, new_user: Callable[..., User]) -> None:
    # Given a pair conversation and a group conversation.
    alice, bob, eve, carol = new_user("alice"), new_user("bob"), new_user("eve"), new_user("carol")
    befriend(client, alice, bob)
    pair = _conversation_with(client, alice, bob)["id"]
    group_id = make_group(client, alice, [carol])
    group = client.post("/v1/conversations", json={"group_id": group_id}, headers=carol.headers).json()["id"]

    # Then an outsider can neither read nor post, nor open them.
    for cid in (pair, group):
        assert_problem(
            client.get(f"/v1/conversations/{cid}/messages", headers=eve.headers), 404, "conversation_not_found"
        )
        assert_problem(
            client.post(f"/v1/conversations/{cid}/messages", json={"text": "hi"}, headers=eve.headers),
            404,
            "conversation_not_found",
        )
    assert_problem(
        client.post("/v1/conversations", json={"group_id": group_id}, headers=eve.headers), 404, "group_not_found"
    )
    assert_problem(
        client.post("/v1/conversations", json={"user_id": alice.id}, headers=eve.headers), 422, "not_friends"
    )
    assert_problem(client.post("/v1/conversations", json={}, headers=eve.headers), 422, "invalid_conversation")
    assert_problem(client.get("/v1/conversations/999999/messages", headers=eve.headers), 404, "conversation_not_found")
    # And bad text is refused; a member who leaves the group loses the conversation.
    for bad in ("", "   ", "\x00nul", "x" * 2_001):
        assert_problem(
            client.post(f"/v1/conversations/{pair}/messages", json={"text": bad}, headers=alice.headers),
            422,
            case=bad[:10],
        )
    assert client.post(f"/v1/groups/{group_id}/leave", headers=carol.headers).status_code == 200
    assert_problem(
        client.get(f"/v1/conversations/{group}/messages", headers=carol.headers), 404, "conversation_not_found"
    )
    # And an ex-friend still reads the history but can no longer post.
    client.delete(f"/v1/friends/{bob.id}", headers=alice.headers)
    assert client.get(f"/v1/conversations/{pair}/messages", headers=bob.headers).status_code == 200
    assert_problem(
        client.post(f"/v1/conversations/{pair}/messages", json={"text": "hi"}, headers=bob.headers), 422, "not_friends"
    )


def test_retried_message_with_the_same_key_gives_one_message(client: TestClient, new_user: Callable[..., User]) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    cid = _conversation_with(client, alice, bob)["id"]
    headers = {**alice.headers, "Idempotency-Key": "msg-1"}

    replies = [
        client.post(f"/v1/conversations/{cid}/messages", json={"text": "恭喜发财"}, headers=headers) for _ in range(2)
    ]

    assert replies[0].json() == replies[1].json()
    assert len(_messages(client, bob, cid)["messages"]) == 1
