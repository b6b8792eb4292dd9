"""Keyset paging of the asks, transfers and conversations lists over HTTP: every item once, bounds, cursors, authz."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.api.conftest import TestClient, User, assert_problem, befriend, make_group, top_up

Between = Callable[[int], None]


def _page(client: TestClient, user: User, path: str, **params: str) -> dict[str, Any]:
    response = client.get(path, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _ids(path: str, page: dict[str, Any]) -> list[int]:
    """The ids of one page in reply order (asks come split by direction: merged back newest first)."""
    if path == "/v1/asks":
        return sorted((a["id"] for a in page["sent"] + page["received"]), reverse=True)
    key = path.rsplit("/", 1)[1]
    return [item["id"] for item in page[key]]


def _walk(client: TestClient, user: User, path: str, limit: int, between: Between | None = None) -> list[int]:
    """Every id of a list, page by page; `between(n)` runs after page n, before the next is fetched."""
    ids: list[int] = []
    cursor: str | None = None
    for n in range(1, 100):
        params = {"limit": str(limit)} if cursor is None else {"limit": str(limit), "cursor": cursor}
        page = _page(client, user, path, **params)
        ids.extend(_ids(path, page))
        assert len(_ids(path, page)) <= limit
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
        assert len(_ids(path, page)) == limit, "only the last page may be short"
        if between is not None:
            between(n)
    raise AssertionError("the walk never ended")


def _transfer(client: TestClient, payer: User, payee: User, amount_fen: int = 100) -> int:
    response = client.post("/v1/transfers", json={"to_user_id": payee.id, "amount_fen": amount_fen},
                           headers=payer.headers)
    assert response.status_code == 201, response.text
    tid: int = response.json()["id"]
    return tid


def _ask(client: TestClient, asker: User, **target: int) -> int:
    response = client.post("/v1/asks", json=target, headers=asker.headers)
    assert response.status_code == 201, response.text
    aid: int = response.json()["id"]
    return aid


def _open(client: TestClient, user: User, **target: int) -> int:
    response = client.post("/v1/conversations", json=target, headers=user.headers)
    assert response.status_code == 200, response.text
    cid: int = response.json()["id"]
    return cid


def _say(client: TestClient, user: User, conversation_id: int, text: str) -> None:
    response = client.post(f"/v1/conversations/{conversation_id}/messages", json={"text": text}, headers=user.headers)
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------------- transfers


def test_transfer_pages_walk_every_transfer_once_newest_first_while_new_ones_arrive(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given bob with 9 transfers, sent and received.
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    top_up(client, alice, 100_000)
    top_up(client, bob, 100_000)
    before = [_transfer(client, alice, bob) for _ in range(7)] + [_transfer(client, bob, alice) for _ in range(2)]
    # When he walks them 2 at a time while alice sends one more after every page.
    later: list[int] = []
    walked = _walk(client, bob, "/v1/transfers", 2, lambda _: later.append(_transfer(client, alice, bob)))
    # Then every transfer that existed is listed exactly once, newest first, and the new ones wait on top.
    assert walked == sorted(before, reverse=True)
    first = _ids("/v1/transfers", _page(client, bob, "/v1/transfers", limit="100"))
    assert first == sorted(before + later, reverse=True)


def test_transfer_list_shows_only_your_own_transfers(client: TestClient, new_user: Callable[..., User]) -> None:
    # Given alice pays bob and carol, and a stranger has none.
    alice, bob, carol, stranger = (new_user(n) for n in ("alice", "bob", "carol", "stranger"))
    befriend(client, alice, bob)
    befriend(client, alice, carol)
    top_up(client, alice, 10_000)
    to_bob = [_transfer(client, alice, bob) for _ in range(3)]
    to_carol = [_transfer(client, alice, carol) for _ in range(3)]
    # Then each sees only the transfers they are part of, whatever cursor they pass.
    assert _walk(client, bob, "/v1/transfers", 2) == sorted(to_bob, reverse=True)
    assert _walk(client, carol, "/v1/transfers", 1) == sorted(to_carol, reverse=True)
    assert _walk(client, alice, "/v1/transfers", 4) == sorted(to_bob + to_carol, reverse=True)
    empty = _page(client, stranger, "/v1/transfers", cursor=str(max(to_carol) + 1))
    assert empty == {"transfers": [], "next_cursor": None}


# ---------------------------------------------------------------------- asks


def test_ask_pages_walk_every_ask_once_newest_first_while_new_ones_arrive(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given an aunt asked by her nephew and by her group, and her own asks.
    aunt, kid, cousin = new_user("aunt"), new_user("kid"), new_user("cousin")
    group_id = make_group(client, aunt, [kid, cousin])
    before = [_ask(client, kid, to_user_id=aunt.id) for _ in range(4)]
    before += [_ask(client, cousin, group_id=group_id) for _ in range(3)]
    before += [_ask(client, aunt, to_user_id=kid.id) for _ in range(2)]
    # When she walks them 2 at a time while the kid asks again after every page.
    later: list[int] = []
    walked = _walk(client, aunt, "/v1/asks", 2, lambda _: later.append(_ask(client, kid, to_user_id=aunt.id)))
    # Then every ask that existed is listed exactly once, newest first, split by direction on each page.
    assert walked == sorted(before, reverse=True)
    page = _page(client, aunt, "/v1/asks", limit="100")
    assert _ids("/v1/asks", page) == sorted(before + later, reverse=True)
    assert {a["direction"] for a in page["sent"]} == {"sent"}
    assert {a["direction"] for a in page["received"]} == {"received"}


def test_ask_list_shows_only_asks_you_sent_or_were_asked(client: TestClient, new_user: Callable[..., User]) -> None:
    # Given a group of aunt, kid and cousin, and an outsider who is only the kid's friend.
    aunt, kid, cousin, outsider = (new_user(n) for n in ("aunt", "kid", "cousin", "outsider"))
    group_id = make_group(client, aunt, [kid, cousin])
    befriend(client, kid, outsider)
    to_aunt = [_ask(client, kid, to_user_id=aunt.id) for _ in range(3)]
    to_group = [_ask(client, kid, group_id=group_id) for _ in range(2)]
    to_outsider = _ask(client, kid, to_user_id=outsider.id)
    # Then the cousin sees the group's asks only, the outsider only the one to them, the kid all of theirs.
    assert _walk(client, cousin, "/v1/asks", 1) == sorted(to_group, reverse=True)
    assert _walk(client, outsider, "/v1/asks", 1) == [to_outsider]
    assert _walk(client, aunt, "/v1/asks", 2) == sorted(to_aunt + to_group, reverse=True)
    assert _walk(client, kid, "/v1/asks", 4) == sorted([*to_aunt, *to_group, to_outsider], reverse=True)


# ---------------------------------------------------------------------- conversations


def test_conversation_pages_walk_every_conversation_once_by_last_activity_while_chats_go_on(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given mei with six friends: four chats with messages in a mixed order, two opened but silent, and a group.
    mei = new_user("mei")
    friends = [new_user("friend") for _ in range(6)]
    for friend in friends:
        befriend(client, mei, friend)
    chats = [_open(client, mei, user_id=f.id) for f in friends]
    body = {"name": "家", "member_ids": [f.id for f in friends[:2]]}
    made = client.post("/v1/groups", json=body, headers=mei.headers)
    assert made.status_code == 201, made.text
    group = _open(client, mei, group_id=made.json()["id"])
    for cid, who in [(chats[2], mei), (group, friends[0]), (chats[0], friends[0]), (chats[3], mei), (chats[1], mei)]:
        _say(client, who, cid, "新年好")
    everyone = _walk(client, mei, "/v1/conversations", 100)
    # Most recent activity first; the silent ones last, newest first.
    assert everyone == [chats[1], chats[3], chats[0], group, chats[2], chats[5], chats[4]]

    # When she walks them 2 at a time while chats she has already seen go on and a new friend writes.
    newcomer = new_user("newcomer")
    befriend(client, newcomer, mei)
    opened: list[int] = []

    def meanwhile(n: int) -> None:
        _say(client, mei, everyone[n - 1], "again")  # listed on this very page: moves to the top
        if n == 1:
            opened.append(_open(client, newcomer, user_id=mei.id))
            _say(client, newcomer, opened[0], "hi")

    walked = _walk(client, mei, "/v1/conversations", 2, meanwhile)
    # Then each conversation that existed is listed exactly once, in the order it had, and the new one is on top.
    assert walked == everyone
    top = _ids("/v1/conversations", _page(client, mei, "/v1/conversations", limit="4"))
    assert top == [everyone[2], everyone[1], opened[0], everyone[0]]


def test_a_conversation_that_becomes_active_mid_walk_moves_to_the_top_rather_than_repeating(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given three chats, most recent first: c, b, a.
    me, *others = (new_user(n) for n in ("me", "a", "b", "c"))
    chats = []
    for other in others:
        befriend(client, me, other)
        chats.append(_open(client, me, user_id=other.id))
        _say(client, other, chats[-1], "hello")
    a, b, c = chats
    # When, after the first page (c), the oldest chat gets a message.
    def meanwhile(n: int) -> None:
        if n == 1:
            _say(client, others[0], a, "again")

    walked = _walk(client, me, "/v1/conversations", 1, meanwhile)
    # Then it is not listed below the cursor any more: it leads the list on the next first page, never twice.
    assert walked == [c, b]
    assert _ids("/v1/conversations", _page(client, me, "/v1/conversations")) == [a, c, b]


def test_conversation_list_and_one_conversation_are_only_for_participants(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    # Given alice chats with bob, and eve is nobody's friend.
    alice, bob, eve = new_user("alice"), new_user("bob"), new_user("eve")
    befriend(client, alice, bob)
    cid = _open(client, alice, user_id=bob.id)
    _say(client, alice, cid, "hi")
    # Then eve lists nothing, even with a cursor from alice's list, and cannot fetch it by id.
    assert _page(client, eve, "/v1/conversations") == {"conversations": [], "next_cursor": None}
    assert _page(client, eve, "/v1/conversations", cursor=f"{2**40}.{cid + 1}")["conversations"] == []
    assert_problem(client.get(f"/v1/conversations/{cid}", headers=eve.headers), 404, "conversation_not_found")
    # And bob fetches it by id as the list shows it.
    one = client.get(f"/v1/conversations/{cid}", headers=bob.headers)
    assert one.status_code == 200, one.text
    assert one.json() == _page(client, bob, "/v1/conversations")["conversations"][0]
    assert one.json()["peer"]["id"] == alice.id and one.json()["last_message"]["text"] == "hi"


# ---------------------------------------------------------------------- bounds and bad cursors

PATHS = ["/v1/asks", "/v1/transfers", "/v1/conversations"]


@pytest.mark.parametrize("path", PATHS)
def test_list_limits_are_bounded_and_default_to_twenty(
    client: TestClient, new_user: Callable[..., User], path: str
) -> None:
    user = new_user()
    for bad in ("0", "101", "-1", "x", "1.5", ""):
        assert_problem(client.get(path, params={"limit": bad}, headers=user.headers), 422, case=bad)
    for good in ("1", "100"):
        assert client.get(path, params={"limit": good}, headers=user.headers).status_code == 200, good
    assert_problem(client.get(path), 401)


def test_a_page_holds_at_most_limit_items_and_twenty_by_default(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    befriend(client, alice, bob)
    top_up(client, alice, 100_000)
    for _ in range(21):
        _transfer(client, alice, bob)
    page = _page(client, bob, "/v1/transfers")
    assert len(page["transfers"]) == 20 and page["next_cursor"] is not None
    assert _page(client, bob, "/v1/transfers", cursor=page["next_cursor"])["next_cursor"] is None
    assert len(_page(client, bob, "/v1/transfers", limit="100")["transfers"]) == 21


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        *((p, c) for p in ("/v1/asks", "/v1/transfers") for c in ("abc", "-1", "1.5", "", "²", "١٢", "9" * 19, " 1")),
        *(("/v1/conversations", c) for c in ("12", "a.b", "1.", ".1", "1.2.3", "-1.2", "².1", "1.9999999999999999999")),
        *((p, "9" * 50) for p in PATHS),
    ],
)
def test_a_bad_cursor_is_a_clear_422_problem(
    client: TestClient, new_user: Callable[..., User], path: str, bad: str
) -> None:
    user = new_user()
    body = assert_problem(client.get(path, params={"cursor": bad}, headers=user.headers), 422, case=bad)
    assert "cursor" in (body["detail"] + str(body.get("errors", ""))).lower()
