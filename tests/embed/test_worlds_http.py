"""Worlds over HTTP (service/worlds.py): a host's users, another host's, and hongbao's own cannot reach each other.

Every social entry point that names another user answers a user of another world exactly as an id nobody has
(404 user_not_found, the same body), and no money moves across: a second host can neither see nor reach the first
host's users or money.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import PROBLEM, TestClient, User, sign_up
from tests.embed.conftest import Host
from tests.embed.test_hosts_http import balance, befriend, fund

NOBODY = 987_654_321  # an id no user has


def uid(client: TestClient, headers: dict[str, str]) -> int:
    got: int = client.get("/v1/wallet", headers=headers).json()["user_id"]
    return got


def refusal(reply: Any) -> dict[str, Any]:
    """A problem's body without the parts that name the request (none today: the whole body must match)."""
    assert reply.headers["content-type"] == PROBLEM, reply.text
    body: dict[str, Any] = reply.json()
    return body


@pytest.fixture
def worlds(client: TestClient, new_host: Callable[..., Host]) -> dict[str, Any]:
    """Host A's alice and bob (friends, alice with money), host B's eve (with money), and hongbao's own nina."""
    a, b = new_host("world-a"), new_host("world-b")
    fund(client, a, "alice", 5_000)
    alice_id, bob_id = befriend(client, a, "alice", "bob")
    fund(client, b, "eve", 5_000)
    nina = sign_up(client, "nina")
    return {"a": a, "b": b, "alice": alice_id, "bob": bob_id, "eve": b.as_user("eve"),
            "eve_id": uid(client, b.as_user("eve")), "nina": nina}


# Every social entry point that names a user: (method, path, json) with {user} standing for the id named.
NAMING = [
    ("POST", "/v1/friends/requests", {"user_id": "{user}"}),
    ("POST", "/v1/users/{user}/follow", None),
    ("DELETE", "/v1/users/{user}/follow", None),
    ("GET", "/v1/users/{user}/profile", None),
    ("POST", "/v1/groups", {"name": "g", "member_ids": ["{user}"]}),
    ("POST", "/v1/conversations", {"user_id": "{user}"}),
    ("POST", "/v1/packets", {"kind": "personal", "recipient_id": "{user}", "amount_fen": 100}),
    ("POST", "/v1/transfers", {"to_user_id": "{user}", "amount_fen": 100}),
    ("POST", "/v1/asks", {"to_user_id": "{user}", "amount_fen": 100}),
]
# Calls that name a user only together with something between the two (a request, a friendship, their own
# wallet): across worlds there never is one, and the answer is the one an id nobody has gets.
NAMING_WITH_A_TIE = [
    ("POST", "/v1/friends/requests/{user}/accept", None, "friend_request_not_found"),
    ("POST", "/v1/friends/requests/{user}/decline", None, "friend_request_not_found"),
    ("DELETE", "/v1/friends/{user}", None, "friend_not_found"),
    ("GET", "/v1/users/{user}/wallet", None, "account_not_found"),
    ("GET", "/v1/users/{user}/statement", None, "account_not_found"),
]


def call(client: TestClient, headers: dict[str, str], method: str, path: str, body: Any, user: int) -> Any:
    def fill(value: Any) -> Any:
        if value == "{user}":
            return user
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    return client.request(method, path.replace("{user}", str(user)), json=fill(body), headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), NAMING, ids=[f"{m} {p}" for m, p, _ in NAMING])
def test_a_user_of_another_world_is_answered_as_nobody(
    client: TestClient, worlds: dict[str, Any], method: str, path: str, body: Any
) -> None:
    eve, nina = worlds["eve"], worlds["nina"]
    alice_as_a = worlds["a"].as_user("alice")
    for who, target in ((eve, worlds["alice"]), (nina.headers, worlds["alice"]), (alice_as_a, nina.id),
                        (alice_as_a, worlds["eve_id"])):
        across = call(client, who, method, path, body, target)
        nobody = call(client, who, method, path, body, NOBODY)
        assert across.status_code == 404, (who, across.text)
        assert refusal(across) == refusal(nobody) and refusal(across)["code"] == "user_not_found"
    # Within a world the same call reaches (here: bob, alice's friend in host A).
    within = call(client, worlds["a"].as_user("bob"), method, path, body, worlds["alice"])
    assert within.status_code < 400 or within.json()["code"] not in ("user_not_found",), within.text


@pytest.mark.parametrize(("method", "path", "body", "code"), NAMING_WITH_A_TIE,
                         ids=[f"{m} {p}" for m, p, _, _ in NAMING_WITH_A_TIE])
def test_a_call_about_a_tie_with_a_user_of_another_world_is_answered_as_about_nobody(
    client: TestClient, worlds: dict[str, Any], method: str, path: str, body: Any, code: str
) -> None:
    for who, target in ((worlds["eve"], worlds["alice"]), (worlds["nina"].headers, worlds["alice"]),
                        (worlds["a"].as_user("alice"), worlds["eve_id"])):
        across = call(client, who, method, path, body, target)
        nobody = call(client, who, method, path, body, NOBODY)
        assert across.status_code == 404 and refusal(across)["code"] == code, across.text
        assert refusal(across) == refusal(nobody)


def test_a_member_cannot_be_added_to_a_group_across_worlds(client: TestClient, worlds: dict[str, Any]) -> None:
    b = worlds["b"]
    group = client.post("/v1/groups", json={"name": "eve's"}, headers=worlds["eve"])
    assert group.status_code == 201, group.text
    added = client.post(f"/v1/groups/{group.json()['id']}/members", json={"user_id": worlds["alice"]},
                        headers=worlds["eve"])
    assert added.status_code == 404 and added.json()["code"] == "user_not_found"
    assert [m["id"] for m in client.get(f"/v1/groups/{group.json()['id']}", headers=b.as_user("eve")).json()[
        "members"]] == [worlds["eve_id"]]


def test_a_username_of_another_world_is_not_found(client: TestClient, worlds: dict[str, Any]) -> None:
    nina: User = worlds["nina"]
    alice = client.get("/v1/me", headers=worlds["a"].as_user("alice")).json()["username"]
    bob = client.get("/v1/me", headers=worlds["a"].as_user("bob")).json()["username"]
    for headers, name in ((worlds["eve"], alice), (nina.headers, alice), (worlds["a"].as_user("alice"), "nina")):
        found = client.get("/v1/users", params={"username": name}, headers=headers)
        assert found.status_code == 404 and found.json()["code"] == "user_not_found", found.text
    assert client.get("/v1/users", params={"username": bob}, headers=worlds["a"].as_user("alice")).status_code == 200


def test_code_and_phrase_packets_open_only_in_the_senders_world(client: TestClient, worlds: dict[str, Any]) -> None:
    a = worlds["a"]
    alice = a.as_user("alice")
    face = client.post("/v1/packets/face-to-face", json={"split": "equal", "shares_count": 2, "amount_each_fen": 100},
                       headers=alice)
    assert face.status_code == 201, face.text
    word = client.post("/v1/packets/password", json={"split": "equal", "shares_count": 2, "amount_each_fen": 100,
                                                      "phrase": "四海一家"}, headers=alice)
    assert word.status_code == 201, word.text
    code, token = face.json()["code"], face.json()["share_path"].rsplit("/", 1)[1]
    outsiders = [worlds["eve"], worlds["nina"].headers]
    for who in outsiders:
        by_code = client.post("/v1/codes/open", json={"code": code}, headers=who)
        assert by_code.status_code == 404 and by_code.json()["code"] == "wrong_code", by_code.text
        by_phrase = client.post("/v1/phrases/open", json={"phrase": "四海一家"}, headers=who)
        assert by_phrase.status_code == 404 and by_phrase.json()["code"] == "wrong_phrase", by_phrase.text
        by_link = client.post(f"/v1/shares/{token}/open", json={"secret": code}, headers=who)
        assert by_link.status_code == 404 and by_link.json()["code"] == "packet_not_found", by_link.text
        for packet in (face.json(), word.json()):
            for step in ("grab", "open"):
                by_id = client.post(f"/v1/packets/{packet['id']}/{step}", headers=who)
                assert by_id.status_code == 404 and by_id.json()["code"] == "packet_not_found", by_id.text
            assert client.get(f"/v1/packets/{packet['id']}", headers=who).status_code == 404
    # Bob, in alice's world, opens both.
    bob = a.as_user("bob")
    assert client.post("/v1/codes/open", json={"code": code}, headers=bob).status_code == 200
    assert client.post("/v1/phrases/open", json={"phrase": "四海一家"}, headers=bob).status_code == 200
    # Nobody outside moved any of host A's money; eve's is where host B put it.
    assert balance(client, a, "alice") == 5_000 - 400
    assert balance(client, a, "bob") == 200
    assert balance(client, worlds["b"], "eve") == 5_000
    assert client.get("/v1/wallet", headers=worlds["nina"].headers).json()["balance_fen"] == 0


def test_a_group_packet_of_another_world_is_not_found_by_id(client: TestClient, worlds: dict[str, Any]) -> None:
    a = worlds["a"]
    group = client.post("/v1/groups", json={"name": "a's", "member_ids": [worlds["bob"]]}, headers=a.as_user("alice"))
    assert group.status_code == 201, group.text
    sent = client.post("/v1/packets", json={"kind": "group", "group_id": group.json()["id"], "split": "double_mean",
                                            "shares_count": 2, "total_fen": 200}, headers=a.as_user("alice"))
    assert sent.status_code == 201, sent.text
    for who in (worlds["eve"], worlds["nina"].headers):
        seen = client.get(f"/v1/packets/{sent.json()['id']}", headers=who)
        assert seen.status_code == 404 and seen.json()["code"] == "packet_not_found", seen.text
        listed = client.get(f"/v1/groups/{group.json()['id']}/packets", headers=who)
        assert listed.status_code == 404 and listed.json()["code"] == "group_not_found", listed.text
        opened = client.post(f"/v1/packets/{sent.json()['id']}/open", headers=who)
        assert opened.status_code == 404 and opened.json()["code"] == "packet_not_found", opened.text
    assert client.get(f"/v1/packets/{sent.json()['id']}", headers=a.as_user("bob")).status_code == 200
    assert balance(client, a, "alice") == 5_000 - 200


def test_one_phrase_is_live_in_two_worlds_and_each_opens_its_own(client: TestClient, worlds: dict[str, Any]) -> None:
    a, b, nina = worlds["a"], worlds["b"], worlds["nina"]
    body = {"split": "equal", "shares_count": 1, "amount_each_fen": 100, "phrase": "同一句话"}
    mine = client.post("/v1/packets/password", json=body, headers=a.as_user("alice"))
    theirs = client.post("/v1/packets/password", json=body, headers=worlds["eve"])
    assert mine.status_code == 201 and theirs.status_code == 201, (mine.text, theirs.text)  # no phrase_taken across
    taken = client.post("/v1/packets/password", json=body, headers=a.as_user("bob"))
    assert taken.status_code == 409 and taken.json()["code"] == "phrase_taken"  # within a world it is one phrase
    by_bob = client.post("/v1/phrases/open", json={"phrase": "同一句话"}, headers=a.as_user("bob"))
    by_eve2 = client.post("/v1/phrases/open", json={"phrase": "同一句话"}, headers=b.as_user("eve2"))
    assert by_bob.json()["packet_id"] == mine.json()["id"] and by_eve2.json()["packet_id"] == theirs.json()["id"]
    nobody = client.post("/v1/phrases/open", json={"phrase": "同一句话"}, headers=nina.headers)
    assert nobody.status_code == 404 and nobody.json()["code"] == "wrong_phrase"
    assert balance(client, a, "bob") == 100 and balance(client, b, "eve2") == 100
