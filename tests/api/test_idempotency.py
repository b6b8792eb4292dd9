"""Idempotency-Key over HTTP: a retry gets the first answer and moves money once; a reused key is refused."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from tests.api.conftest import TestClient, User, assert_problem, balance, make_group, statement, top_up

FUNDS_FEN = 100_000


@dataclass(frozen=True)
class Scene:
    sender: User
    friend: User
    group_id: int


@pytest.fixture
def scene(client: TestClient, new_user: Callable[..., User]) -> Scene:
    sender, friend = new_user("sender"), new_user("friend")
    group_id = make_group(client, sender, [friend])
    top_up(client, sender, FUNDS_FEN)
    return Scene(sender, friend, group_id)


def _lucky(scene: Scene, total_fen: int = 1_000) -> dict[str, Any]:
    return {"kind": "group", "group_id": scene.group_id, "split": "double_mean", "shares_count": 3,
            "total_fen": total_fen}


def _with_key(user: User, key: str) -> dict[str, str]:
    return {**user.headers, "Idempotency-Key": key}


def test_send_replayed_with_the_same_key_gives_the_same_body_and_one_debit(client: TestClient, scene: Scene) -> None:
    headers = _with_key(scene.sender, "send-1")
    first = client.post("/v1/packets", json=_lucky(scene), headers=headers)
    again = client.post("/v1/packets", json=_lucky(scene), headers=headers)

    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert balance(client, scene.sender) == FUNDS_FEN - 1_000
    assert [e["kind"] for e in statement(client, scene.sender)] == ["sent", "top_up"]
    listed = client.get(f"/v1/groups/{scene.group_id}/packets", headers=scene.sender.headers).json()
    assert [p["id"] for p in listed["packets"]] == [first.json()["id"]]


def test_send_with_a_used_key_and_another_body_gives_409_and_no_debit(client: TestClient, scene: Scene) -> None:
    headers = _with_key(scene.sender, "send-2")
    assert client.post("/v1/packets", json=_lucky(scene), headers=headers).status_code == 201

    reused = client.post("/v1/packets", json=_lucky(scene, total_fen=2_000), headers=headers)

    assert_problem(reused, 409, "idempotency_key_reused")
    assert balance(client, scene.sender) == FUNDS_FEN - 1_000


def test_keys_belong_to_one_user_so_the_same_key_from_two_users_runs_twice(client: TestClient, scene: Scene) -> None:
    top_up(client, scene.friend, 5_000)
    mine = client.post("/v1/packets", json=_lucky(scene), headers=_with_key(scene.sender, "shared"))
    theirs = client.post("/v1/packets", json=_lucky(scene), headers=_with_key(scene.friend, "shared"))

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert balance(client, scene.sender) == FUNDS_FEN - 1_000
    assert balance(client, scene.friend) == 5_000 - 1_000


def test_open_replayed_with_the_same_key_gives_the_same_amount_and_one_credit(
    client: TestClient, scene: Scene
) -> None:
    packet = client.post("/v1/packets", json=_lucky(scene), headers=scene.sender.headers).json()
    headers = _with_key(scene.friend, "open-1")

    first = client.post(f"/v1/packets/{packet['id']}/open", headers=headers)
    again = client.post(f"/v1/packets/{packet['id']}/open", headers=headers)

    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    assert balance(client, scene.friend) == first.json()["amount_fen"]
    assert [e["kind"] for e in statement(client, scene.friend)] == ["received"]
    # Without the key, a second open is what it is: already claimed.
    keyless = client.post(f"/v1/packets/{packet['id']}/open", headers=scene.friend.headers)
    assert_problem(keyless, 409, "already_claimed")


def test_open_retried_while_the_first_is_in_flight_gets_200_and_the_same_amount(
    client: TestClient, scene: Scene
) -> None:
    packet = client.post("/v1/packets", json=_lucky(scene), headers=scene.sender.headers).json()
    headers = _with_key(scene.friend, "open-2")

    # The retries go out before the first answer is back, as from a phone on a flaky network.
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda _: client.post(f"/v1/packets/{packet['id']}/open", headers=headers), range(3)))

    assert [r.status_code for r in replies] == [200] * 3, [r.text for r in replies]
    assert replies[1].json() == replies[2].json() == replies[0].json()
    assert balance(client, scene.friend) == replies[0].json()["amount_fen"]
    assert [e["kind"] for e in statement(client, scene.friend)] == ["received"]


def test_top_up_replayed_with_the_same_key_is_credited_once(client: TestClient, scene: Scene) -> None:
    first = top_up(client, scene.friend, 2_500, key="top-up-1")
    again = top_up(client, scene.friend, 2_500, key="top-up-1")

    assert again == first
    assert balance(client, scene.friend) == 2_500
    assert [e["kind"] for e in statement(client, scene.friend)] == ["top_up"]
    other = client.post("/v1/wallet/top-ups", json={"amount_fen": 9_999}, headers=_with_key(scene.friend, "top-up-1"))
    assert_problem(other, 409, "idempotency_key_reused")
    assert balance(client, scene.friend) == 2_500


def test_withdrawal_replayed_with_the_same_key_is_debited_once(client: TestClient, scene: Scene) -> None:
    headers = _with_key(scene.sender, "withdraw-1")
    first = client.post("/v1/wallet/withdrawals", json={"amount_fen": 4_000}, headers=headers)
    again = client.post("/v1/wallet/withdrawals", json={"amount_fen": 4_000}, headers=headers)

    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert balance(client, scene.sender) == FUNDS_FEN - 4_000


def test_idempotency_key_of_129_chars_gives_422_and_of_128_is_accepted(client: TestClient, scene: Scene) -> None:
    too_long = _with_key(scene.sender, "k" * 129)
    for path, body in (
        ("/v1/packets", _lucky(scene)),
        ("/v1/wallet/top-ups", {"amount_fen": 100}),
        ("/v1/wallet/withdrawals", {"amount_fen": 100}),
    ):
        assert_problem(client.post(path, json=body, headers=too_long), 422, "invalid_idempotency_key", case=path)
    packet = client.post("/v1/packets", json=_lucky(scene), headers=scene.sender.headers).json()
    opened = client.post(f"/v1/packets/{packet['id']}/open", headers=_with_key(scene.friend, "k" * 129))
    assert_problem(opened, 422, "invalid_idempotency_key")
    assert balance(client, scene.sender) == FUNDS_FEN - 1_000
    assert balance(client, scene.friend) == 0

    accepted = client.post("/v1/packets", json=_lucky(scene), headers=_with_key(scene.sender, "k" * 128))
    assert accepted.status_code == 201, accepted.text
    assert_problem(
        client.post("/v1/packets", json=_lucky(scene), headers=_with_key(scene.sender, "")),
        422, "invalid_idempotency_key",
    )
