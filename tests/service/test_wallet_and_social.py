"""Users, wallets, friends and groups as use cases, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hongbao.adapters.sql import schema as s
from hongbao.bootstrap import App, build
from tests.conftest import FrozenClock, fast_settings
from tests.service.helpers import PASSWORD, befriend, checked, refusal, register


def channel_payments(app: App) -> int:
    return app.store.read_sync(
        lambda tx: tx.conn.execute(select(func.count()).select_from(s.channel_payments)).scalar_one()
    )


@pytest.fixture
def small_groups(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[App]:
    """The app with groups of at most 3 members; checks the ledger when the test ends."""
    settings = fast_settings(database_url=store_url, data_dir=tmp_path, group_members_max=3)
    yield from checked(build(settings, clock=clock))


# ---------------------------------------------------------------------- users and tokens


def test_login_with_the_right_password_gives_a_token_for_that_user(hb: App) -> None:
    (alice,) = register(hb, "alice")

    session = asyncio.run(hb.users.login("Alice ", PASSWORD))

    assert session.user_id == alice
    assert asyncio.run(hb.users.authenticate(session.token)) == alice


def test_login_with_a_wrong_password_or_unknown_name_gives_bad_credentials(hb: App) -> None:
    register(hb, "alice")

    assert refusal(hb.users.login("alice", "not the password")) == "bad_credentials"
    assert refusal(hb.users.login("nobody", PASSWORD)) == "bad_credentials"


def test_registering_a_taken_username_gives_username_taken(hb: App) -> None:
    register(hb, "alice")

    assert refusal(hb.users.register("ALICE", PASSWORD)) == "username_taken"


def test_a_token_past_its_ttl_gives_token_invalid(hb: App, clock: FrozenClock) -> None:
    register(hb, "alice")
    session = asyncio.run(hb.users.login("alice", PASSWORD))
    asyncio.run(hb.users.authenticate(session.token))  # now in the token cache too

    clock.advance(seconds=hb.settings.token_ttl_s + 1)

    assert refusal(hb.users.authenticate(session.token)) == "token_invalid"


def test_logout_revokes_the_token(hb: App) -> None:
    register(hb, "alice")
    session = asyncio.run(hb.users.login("alice", PASSWORD))
    other = asyncio.run(hb.users.login("alice", PASSWORD))
    asyncio.run(hb.users.authenticate(session.token))

    asyncio.run(hb.users.logout(session.token))

    assert refusal(hb.users.authenticate(session.token)) == "token_invalid"
    assert asyncio.run(hb.users.authenticate(other.token)) == session.user_id


def test_a_forged_secret_for_a_real_token_id_gives_token_invalid(hb: App) -> None:
    register(hb, "alice")
    session = asyncio.run(hb.users.login("alice", PASSWORD))
    token_id = session.token.split(".")[0]

    assert refusal(hb.users.authenticate(token_id + ".forged-secret")) == "token_invalid"


def test_a_burst_of_tokens_unknown_to_a_fresh_process_are_each_answered_with_their_own_user(
    store_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    """Another process's cache is cold: its concurrent lookups are batched, and no answer goes to the wrong caller."""
    issuer = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock)
    users = register(issuer, *[f"user{i}" for i in range(40)])
    sessions = [asyncio.run(issuer.users.login(f"user{i}", PASSWORD)) for i in range(40)]
    issuer.close()
    fresh = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, migrate_schema=False)

    async def burst() -> list[int | BaseException]:
        tokens = [s.token for s in sessions] + [sessions[0].token.split(".")[0] + ".forged", "0000.nosuchtoken"]
        return await asyncio.gather(*(fresh.users.authenticate(t) for t in tokens), return_exceptions=True)

    try:
        answers = asyncio.run(burst())
    finally:
        fresh.close()

    assert answers[:40] == users
    assert [getattr(a, "code", None) for a in answers[40:]] == ["token_invalid", "token_invalid"]


# ---------------------------------------------------------------------- wallet


def test_top_up_and_withdraw_move_the_balance(hb: App) -> None:
    (alice,) = register(hb, "alice")

    topped = asyncio.run(hb.wallet.top_up(alice, 10_000))
    withdrawn = asyncio.run(hb.wallet.withdraw(alice, 2_500))

    assert topped["balance_fen"] == 10_000
    assert withdrawn["balance_fen"] == 7_500
    assert asyncio.run(hb.wallet.balance(alice)) == 7_500
    assert hb.deps.channel.paid_out_fen == 2_500  # type: ignore[attr-defined]


def test_statement_pages_newest_first_through_the_cursor(hb: App) -> None:
    (alice,) = register(hb, "alice")
    for amount in (100, 200, 300, 400, 500, 600):
        asyncio.run(hb.wallet.top_up(alice, amount))
    asyncio.run(hb.wallet.withdraw(alice, 50))

    first = asyncio.run(hb.wallet.statement(alice, None, 3))
    second = asyncio.run(hb.wallet.statement(alice, int(first["next_cursor"]), 3))
    third = asyncio.run(hb.wallet.statement(alice, int(second["next_cursor"]), 3))

    entries = first["entries"] + second["entries"] + third["entries"]
    assert [len(first["entries"]), len(second["entries"]), len(third["entries"])] == [3, 3, 1]
    assert third["next_cursor"] is None
    assert [e["amount_fen"] for e in entries] == [-50, 600, 500, 400, 300, 200, 100]
    assert [e["kind"] for e in entries] == ["withdrawal"] + ["top_up"] * 6
    assert len({e["id"] for e in entries}) == 7
    assert sum(e["amount_fen"] for e in entries) == asyncio.run(hb.wallet.balance(alice))


def test_statement_shows_only_the_users_own_money(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    asyncio.run(hb.wallet.top_up(alice, 100))

    page = asyncio.run(hb.wallet.statement(bob, None, 10))

    assert page == {"entries": [], "next_cursor": None}


def test_withdrawing_more_than_the_balance_gives_insufficient_funds_and_moves_nothing(hb: App) -> None:
    (alice,) = register(hb, "alice")
    asyncio.run(hb.wallet.top_up(alice, 1_000))
    payments_before = channel_payments(hb)

    assert refusal(hb.wallet.withdraw(alice, 1_001)) == "insufficient_funds"

    assert asyncio.run(hb.wallet.balance(alice)) == 1_000
    assert len(asyncio.run(hb.wallet.statement(alice, None, 10))["entries"]) == 1
    assert channel_payments(hb) == payments_before
    assert hb.deps.channel.paid_out_fen == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True])
def test_a_top_up_of_a_non_positive_or_non_integer_amount_gives_invalid_amount(hb: App, amount: object) -> None:
    (alice,) = register(hb, "alice")

    assert refusal(hb.wallet.top_up(alice, amount)) == "invalid_amount"
    assert asyncio.run(hb.wallet.balance(alice)) == 0


# ---------------------------------------------------------------------- friends


def test_a_friend_request_accepted_makes_both_friends(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")

    asked = asyncio.run(hb.social.request_friend(alice, bob))
    pending = asyncio.run(hb.social.friends(bob))
    accepted = asyncio.run(hb.social.accept_friend(bob, alice))

    assert asked["status"] == "pending"
    assert [u["id"] for u in pending["requests"]] == [alice]
    assert accepted["status"] == "accepted"
    assert [u["id"] for u in asyncio.run(hb.social.friends(alice))["friends"]] == [bob]
    assert [u["id"] for u in asyncio.run(hb.social.friends(bob))["friends"]] == [alice]


def test_asking_an_existing_friend_again_gives_already_friends(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    befriend(hb, alice, bob)

    assert refusal(hb.social.request_friend(alice, bob)) == "already_friends"
    assert refusal(hb.social.request_friend(bob, alice)) == "already_friends"


def test_accepting_a_request_that_was_never_made_gives_friend_request_not_found(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")

    assert refusal(hb.social.accept_friend(bob, alice)) == "friend_request_not_found"


def test_befriending_yourself_gives_cannot_befriend_self(hb: App) -> None:
    (alice,) = register(hb, "alice")

    assert refusal(hb.social.request_friend(alice, alice)) == "cannot_befriend_self"


# ---------------------------------------------------------------------- groups


def test_creating_a_group_with_a_non_friend_gives_not_friends_and_no_group(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    befriend(hb, alice, bob)

    assert refusal(hb.social.create_group(alice, "family", [bob, carol])) == "not_friends"

    assert asyncio.run(hb.social.groups(alice)) == []


def test_the_owner_removes_a_member(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    befriend(hb, alice, bob, carol)
    group = asyncio.run(hb.social.create_group(alice, "family", [bob, carol]))

    asyncio.run(hb.social.remove_member(alice, group["id"], bob))

    members = asyncio.run(hb.social.group(alice, group["id"]))["members"]
    assert [m["id"] for m in members] == [alice, carol]
    assert refusal(hb.social.group(bob, group["id"])) == "group_not_found"


def test_a_member_who_is_not_the_owner_cannot_remove_another(hb: App) -> None:
    alice, bob, carol = register(hb, "alice", "bob", "carol")
    befriend(hb, alice, bob, carol)
    group = asyncio.run(hb.social.create_group(alice, "family", [bob, carol]))

    assert refusal(hb.social.remove_member(bob, group["id"], carol)) == "not_group_owner"


def test_a_member_leaves_the_group(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    befriend(hb, alice, bob)
    group = asyncio.run(hb.social.create_group(alice, "family", [bob]))

    asyncio.run(hb.social.remove_member(bob, group["id"], bob))

    assert asyncio.run(hb.social.groups(bob)) == []
    assert [m["id"] for m in asyncio.run(hb.social.group(alice, group["id"]))["members"]] == [alice]


def test_the_owner_cannot_leave_the_group(hb: App) -> None:
    alice, bob = register(hb, "alice", "bob")
    befriend(hb, alice, bob)
    group = asyncio.run(hb.social.create_group(alice, "family", [bob]))

    assert refusal(hb.social.remove_member(alice, group["id"], alice)) == "owner_cannot_leave"
    assert len(asyncio.run(hb.social.group(alice, group["id"]))["members"]) == 2


def test_a_member_adds_a_friend_but_not_a_stranger(hb: App) -> None:
    alice, bob, carol, dave = register(hb, "alice", "bob", "carol", "dave")
    befriend(hb, alice, bob)
    befriend(hb, bob, carol)
    group = asyncio.run(hb.social.create_group(alice, "family", [bob]))

    asyncio.run(hb.social.add_member(bob, group["id"], carol))

    assert refusal(hb.social.add_member(bob, group["id"], dave)) == "not_friends"
    assert refusal(hb.social.add_member(bob, group["id"], carol)) == "already_member"
    assert refusal(hb.social.add_member(dave, group["id"], dave)) == "group_not_found"


def test_creating_a_group_over_the_member_limit_gives_group_full(small_groups: App) -> None:
    app = small_groups
    alice, bob, carol, dave = register(app, "alice", "bob", "carol", "dave")
    befriend(app, alice, bob, carol, dave)

    assert refusal(app.social.create_group(alice, "too many", [bob, carol, dave])) == "group_full"

    assert asyncio.run(app.social.groups(alice)) == []


def test_adding_a_member_to_a_full_group_gives_group_full(small_groups: App) -> None:
    app = small_groups
    alice, bob, carol, dave = register(app, "alice", "bob", "carol", "dave")
    befriend(app, alice, bob, carol, dave)
    group = asyncio.run(app.social.create_group(alice, "three", [bob, carol]))

    assert refusal(app.social.add_member(alice, group["id"], dave)) == "group_full"

    assert len(asyncio.run(app.social.group(alice, group["id"]))["members"]) == 3
