"""Friends (decline, remove), followers, profiles and the admin's verification, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hongbao.bootstrap import App
from tests.api.conftest import TestClient, User, assert_problem, befriend


def test_declined_request_gives_no_friendship_and_lets_the_requester_ask_again(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given bob asked alice to be friends.
    alice, bob = new_user("alice"), new_user("bob")
    assert client.post("/v1/friends/requests", json={"user_id": alice.id}, headers=bob.headers).status_code == 201
    assert [u["id"] for u in client.get("/v1/friends", headers=alice.headers).json()["requests"]] == [bob.id]

    # When alice declines.
    declined = client.post(f"/v1/friends/requests/{bob.id}/decline", headers=alice.headers)

    # Then nobody is friends, the request is gone, declining again is 404, and bob may ask again.
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert client.get("/v1/friends", headers=alice.headers).json() == {"friends": [], "requests": [], "sent": []}
    assert_problem(
        client.post(f"/v1/friends/requests/{bob.id}/decline", headers=alice.headers), 404, "friend_request_not_found"
    )
    assert client.post("/v1/friends/requests", json={"user_id": alice.id}, headers=bob.headers).status_code == 201


def test_removed_friend_gives_no_friendship_and_no_new_personal_packet(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given alice and bob are friends.
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)

    # When bob removes alice.
    removed = client.delete(f"/v1/friends/{alice.id}", headers=bob.headers)

    # Then neither lists the other, removing again is 404, and alice can no longer send bob a packet.
    assert removed.status_code == 200 and removed.json()["status"] == "removed"
    assert client.get("/v1/friends", headers=alice.headers).json()["friends"] == []
    assert_problem(client.delete(f"/v1/friends/{alice.id}", headers=bob.headers), 404, "friend_not_found")
    client.post("/v1/wallet/top-ups", json={"amount_fen": 1_000}, headers=alice.headers)
    sent = client.post(
        "/v1/packets", json={"kind": "personal", "recipient_id": bob.id, "amount_fen": 100}, headers=alice.headers
    )
    assert_problem(sent, 422, "not_friends")


def test_deleting_a_pending_request_you_sent_gives_withdrawn(client: TestClient, new_user: Callable[..., User]) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    client.post("/v1/friends/requests", json={"user_id": bob.id}, headers=alice.headers)

    withdrawn = client.delete(f"/v1/friends/{bob.id}", headers=alice.headers)

    assert withdrawn.json()["status"] == "withdrawn"
    assert client.get("/v1/friends", headers=bob.headers).json()["requests"] == []


def test_following_a_verified_celebrity_gives_follower_count_and_followed_by_me(
    client: TestClient, hb: App, new_user: Callable[..., User]
) -> None:
    # Given an admin (made by the operator) who verifies "star" as a celebrity.
    admin, star, fan, other = new_user("admin"), new_user("star"), new_user("fan"), new_user("other")
    asyncio.run(hb.social_graph.grant_admin(admin.username))
    verified = client.post(f"/v1/admin/users/{star.id}/verify", json={"as": "celebrity"}, headers=admin.headers)
    assert verified.status_code == 200 and verified.json()["verified_as"] == "celebrity"

    # When two users follow star (one of them twice) and one unfollows.
    for user in (fan, fan, other):
        assert client.post(f"/v1/users/{star.id}/follow", headers=user.headers).json()["following"] is True
    unfollowed = client.delete(f"/v1/users/{star.id}/follow", headers=other.headers).json()

    # Then the profile shows the verification, one follower, and whether the viewer follows.
    assert unfollowed == {"user_id": star.id, "following": False, "follower_count": 1}
    seen_by_fan = client.get(f"/v1/users/{star.id}/profile", headers=fan.headers).json()
    assert seen_by_fan["verified_as"] == "celebrity"
    assert (seen_by_fan["follower_count"], seen_by_fan["followed_by_me"]) == (1, True)
    assert client.get(f"/v1/users/{star.id}/profile", headers=other.headers).json()["followed_by_me"] is False
    assert [u["id"] for u in client.get("/v1/following", headers=fan.headers).json()["following"]] == [star.id]
    assert client.get("/v1/following", headers=other.headers).json()["following"] == []


def test_follow_refusals_give_their_codes(client: TestClient, new_user: Callable[..., User]) -> None:
    alice = new_user("alice")
    assert_problem(client.post(f"/v1/users/{alice.id}/follow", headers=alice.headers), 422, "cannot_follow_self")
    assert_problem(client.post("/v1/users/999999/follow", headers=alice.headers), 404, "user_not_found")
    assert_problem(client.get("/v1/users/999999/profile", headers=alice.headers), 404, "user_not_found")
    assert_problem(client.post(f"/v1/users/{alice.id}/follow"), 401)


def test_verification_by_a_non_admin_gives_403_and_changes_nothing(
    client: TestClient, hb: App, new_user: Callable[..., User]
) -> None:
    mallory, brand = new_user("mallory"), new_user("brand")

    refused = client.post(f"/v1/admin/users/{brand.id}/verify", json={"as": "enterprise"}, headers=mallory.headers)

    assert_problem(refused, 403, "not_admin")
    assert client.get(f"/v1/users/{brand.id}/profile", headers=mallory.headers).json()["verified_as"] is None


def test_admin_verification_shapes_give_their_answers(
    client: TestClient, hb: App, new_user: Callable[..., User]
) -> None:
    admin, brand = new_user("admin"), new_user("brand")
    asyncio.run(hb.social_graph.grant_admin(admin.username))
    url = f"/v1/admin/users/{brand.id}/verify"

    assert client.post(url, json={"as": "enterprise"}, headers=admin.headers).json()["verified_as"] == "enterprise"
    assert client.post(url, json={"as": None}, headers=admin.headers).json()["verified_as"] is None
    assert_problem(client.post(url, json={"as": "king"}, headers=admin.headers), 422, "invalid_request")
    assert_problem(client.post(url, json={}, headers=admin.headers), 422, "invalid_request")
    assert_problem(
        client.post("/v1/admin/users/999999/verify", json={"as": "celebrity"}, headers=admin.headers),
        404,
        "user_not_found",
    )
