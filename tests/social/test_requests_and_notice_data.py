"""Friend requests you sent (listed, withdrawn, refused when not yours) and the data of transfer and ask notices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.conftest import TestClient, User, assert_problem, befriend, top_up


def pair_messages(client: TestClient, me: User, friend: User) -> list[dict[str, Any]]:
    """The messages of `me`'s conversation with `friend`, newest first."""
    conv = client.post("/v1/conversations", json={"user_id": friend.id}, headers=me.headers).json()
    page = client.get(f"/v1/conversations/{conv['id']}/messages", headers=me.headers)
    assert page.status_code == 200, page.text
    messages: list[dict[str, Any]] = page.json()["messages"]
    return messages


def test_friends_lists_the_requests_you_sent_until_they_are_answered_or_withdrawn(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given alice asked bob and carol.
    alice, bob, carol = new_user("alice"), new_user("bob"), new_user("carol")
    for other in (bob, carol):
        assert client.post("/v1/friends/requests", json={"user_id": other.id}, headers=alice.headers).status_code == 201

    # Then alice sees both as sent, bob sees alice's request but nothing sent.
    mine = client.get("/v1/friends", headers=alice.headers).json()
    assert [u["id"] for u in mine["sent"]] == sorted([bob.id, carol.id])
    assert mine["sent"][0]["username"] and mine["requests"] == [] and mine["friends"] == []
    assert client.get("/v1/friends", headers=bob.headers).json()["sent"] == []

    # When bob accepts and alice withdraws the request to carol.
    client.post(f"/v1/friends/requests/{alice.id}/accept", headers=bob.headers)
    withdrawn = client.delete(f"/v1/friends/{carol.id}", headers=alice.headers)

    # Then nothing is left pending on either side, and withdrawing again is 404.
    assert withdrawn.status_code == 200 and withdrawn.json() == {"user_id": carol.id, "status": "withdrawn"}
    mine = client.get("/v1/friends", headers=alice.headers).json()
    assert mine["sent"] == [] and [u["id"] for u in mine["friends"]] == [bob.id]
    assert client.get("/v1/friends", headers=carol.headers).json()["requests"] == []
    assert_problem(client.delete(f"/v1/friends/{carol.id}", headers=alice.headers), 404, "friend_not_found")


def test_deleting_a_request_someone_sent_you_is_refused_and_leaves_it_to_answer(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given bob asked alice.
    alice, bob = new_user("alice"), new_user("bob")
    client.post("/v1/friends/requests", json={"user_id": alice.id}, headers=bob.headers)

    # When alice tries to withdraw it as if it were hers.
    refused = assert_problem(client.delete(f"/v1/friends/{bob.id}", headers=alice.headers), 404, "friend_not_found")

    # Then she is told to decline instead, and the request still waits for her answer.
    assert "decline" in refused["detail"]
    assert [u["id"] for u in client.get("/v1/friends", headers=alice.headers).json()["requests"]] == [bob.id]
    assert [u["id"] for u in client.get("/v1/friends", headers=bob.headers).json()["sent"]] == [alice.id]


def test_transfer_notices_carry_sender_recipient_status_and_amount(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given friends alice and bob, and alice transfers ¥12.34 to bob.
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    top_up(client, alice, 5_000)
    sent = client.post("/v1/transfers", json={"to_user_id": bob.id, "amount_fen": 1234}, headers=alice.headers)
    assert sent.status_code == 201, sent.text

    # When bob accepts it.
    assert client.post(f"/v1/transfers/{sent.json()['id']}/accept", headers=bob.headers).status_code == 200

    # Then both steps are notices whose data says who, to whom, how much and what happened.
    notices = [m for m in pair_messages(client, bob, alice) if m["data"].get("event") == "transfer"]
    common = {
        "event": "transfer",
        "transfer_id": sent.json()["id"],
        "amount_fen": 1234,
        "sender_id": alice.id,
        "recipient_id": bob.id,
    }
    assert [m["data"] for m in notices] == [{**common, "status": "accepted"}, {**common, "status": "pending"}]
    assert all(m["type"] == "system" and m["sender_id"] is None for m in notices)


def test_ask_notices_carry_the_step_who_the_amount_and_the_message(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given friends alice and bob, and alice asks bob for ¥8.88.
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    body = {"to_user_id": bob.id, "amount_fen": 888, "message": "新年快乐"}
    asked = client.post("/v1/asks", json=body, headers=alice.headers)
    assert asked.status_code == 201, asked.text

    # When bob declines.
    assert client.post(f"/v1/asks/{asked.json()['id']}/decline", headers=bob.headers).status_code == 200

    # Then the notices' data carry each step, who took it, the amount and the message.
    notices = [m["data"] for m in pair_messages(client, alice, bob) if m["data"].get("event") == "ask"]
    common = {"event": "ask", "ask_id": asked.json()["id"], "amount_fen": 888, "message": "新年快乐"}
    assert notices == [
        {**common, "step": "declined", "user_id": bob.id},
        {**common, "step": "asked", "user_id": alice.id},
    ]
