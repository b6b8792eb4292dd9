"""The operator's `hongbao admin` commands, the demo seed's verified accounts, and the group rules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hongbao.bootstrap import build
from hongbao.cli import app as cli
from hongbao.domain.errors import HongbaoError
from hongbao.seed import seed_demo
from hongbao.service.reconcile import reconcile
from tests.conftest import fast_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HONGBAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("HONGBAO_DATA_DIR", raising=False)


def test_admin_commands_give_an_admin_and_a_verified_celebrity(store_url: str, tmp_path: Path) -> None:
    # Given a store with two users.
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path))
    try:
        ids = [asyncio.run(app.users.register(n, "correct horse battery")) for n in ("boss", "star")]
    finally:
        app.close()

    # When the operator grants boss admin rights and verifies star as a celebrity.
    granted = runner.invoke(cli, ["admin", "grant", "boss", "--database-url", store_url])
    verified = runner.invoke(cli, ["admin", "verify", "STAR", "--as", "celebrity", "--database-url", store_url])
    unknown = runner.invoke(cli, ["admin", "verify", "nobody", "--as", "celebrity", "--database-url", store_url])
    invalid = runner.invoke(cli, ["admin", "verify", "star", "--as", "king", "--database-url", store_url])

    # Then both hold, and the refusals exit 1 with their codes.
    assert granted.exit_code == 0 and "now an admin" in granted.output, granted.output
    assert verified.exit_code == 0 and "celebrity" in verified.output, verified.output
    assert unknown.exit_code == 1 and "user_not_found" in unknown.output
    assert invalid.exit_code == 1 and "invalid_verification" in invalid.output
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path))
    try:
        assert app.store.read_sync(lambda tx: (tx.is_admin(ids[0]), tx.verified_as(ids[1]))) == (True, "celebrity")
    finally:
        app.close()


def test_demo_seed_gives_an_admin_a_followed_celebrity_and_a_funded_enterprise(store_url: str, tmp_path: Path) -> None:
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path))
    try:
        assert asyncio.run(seed_demo(app)) == "created"

        def facts(tx: object) -> tuple[bool, str | None, str | None, int, int]:
            alice, star, acme = (tx.user_by_username(n) for n in ("alice", "star", "acme"))  # type: ignore[attr-defined]
            return (
                tx.is_admin(alice.id),  # type: ignore[attr-defined]
                tx.verified_as(star.id),  # type: ignore[attr-defined]
                tx.verified_as(acme.id),  # type: ignore[attr-defined]
                tx.follower_count(star.id),  # type: ignore[attr-defined]
                tx.balance_fen(acme.id),  # type: ignore[attr-defined]
            )

        admin, star_as, acme_as, fans, acme_fen = app.store.read_sync(facts)
    finally:
        app.close()

    assert (admin, star_as, acme_as) == (True, "celebrity", "enterprise")
    assert fans == 4 and acme_fen > 0


def test_demo_seed_gives_a_live_gala_a_campaign_for_followers_and_a_shop_nearby_all_reconciled(
    store_url: str, tmp_path: Path
) -> None:
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path))
    try:
        asyncio.run(seed_demo(app))
        bob = app.store.read_sync(lambda tx: tx.user_by_username("bob").id)  # type: ignore[attr-defined]

        async def look() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
            events = await app.shake.events(bob)
            following = await app.campaigns.following(bob)
            nearby = await app.campaigns.nearby(bob, 39.9042, 116.4074, 1000)
            won = await app.campaigns.claim(following["campaigns"][0]["id"], bob, token=None, idem=None)
            return events, following, nearby, won

        events, following, nearby, won = asyncio.run(look())
        report = reconcile(app.store)
    finally:
        app.close()

    # The Gala's first round is on now and ACME sponsors it; bob follows ACME so its campaign is his to claim.
    (gala,) = events["events"]
    assert gala["live"] is True and len(gala["rounds"]) == 24
    assert [c["owner_name"] for c in following["campaigns"]] == ["ACME 爱克米"]
    assert won["kind"] in ("cash", "coupon")
    assert [o["merchant_name"] for o in nearby["offers"]] == ["ACME 便利店 Store"]
    assert report.violations == []


def test_group_rules_give_their_codes_at_the_member_cap(store_url: str, tmp_path: Path) -> None:
    # Given groups capped at 3 members and an owner with three friends.
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path, group_members_max=3))

    async def scenario() -> dict[str, str]:
        owner, a, b, c = [await app.users.register(n, "correct horse battery") for n in ("own", "aaa", "bbb", "ccc")]
        for friend in (a, b, c):
            await app.social.request_friend(owner, friend)
            await app.social.accept_friend(friend, owner)
        codes: dict[str, str] = {}

        async def refused(name: str, call: object) -> None:
            try:
                await call  # type: ignore[misc]
            except HongbaoError as exc:
                codes[name] = exc.code

        await refused("create_too_big", app.social.create_group(owner, "too big", [a, b, c]))
        group = await app.social.create_group(owner, "family", [a, b])
        await refused("add_fourth", app.social.add_member(owner, group["id"], c))
        await refused("member_removes_other", app.social.remove_member(a, group["id"], b))
        await refused("owner_leaves", app.social.remove_member(owner, group["id"], owner))
        await app.social.remove_member(a, group["id"], a)  # a leaves
        await app.social.add_member(owner, group["id"], c)  # room again
        await app.social.remove_member(owner, group["id"], b)  # the owner removes b
        await refused("outsider_reads", app.social.group(b, group["id"]))
        members = (await app.social.group(owner, group["id"]))["members"]
        codes["members"] = ",".join(sorted(m["username"] for m in members))
        return codes

    try:
        codes = asyncio.run(scenario())
    finally:
        app.close()

    assert codes == {
        "create_too_big": "group_full",
        "add_fourth": "group_full",
        "member_removes_other": "not_group_owner",
        "owner_leaves": "owner_cannot_leave",
        "outsider_reads": "group_not_found",
        "members": "ccc,own",
    }


def test_two_processes_adding_the_last_seat_of_a_group_at_once_admit_exactly_one(
    store_url: str, tmp_path: Path
) -> None:
    # Given two API processes on one database, groups capped at 3 members holding 2, and two friends to add.
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from tests.service.helpers import befriend

    settings = fast_settings(database_url=store_url, data_dir=tmp_path, group_members_max=3)
    one = build(settings)
    two = build(settings, migrate_schema=False)
    try:
        owner, member, x, y = [
            asyncio.run(one.users.register(n, "correct horse battery")) for n in ("own", "mmm", "xxx", "yyy")
        ]
        befriend(one, owner, member, x, y)
        groups = [asyncio.run(one.social.create_group(owner, f"g{i}", [member]))["id"] for i in range(12)]
        together = Barrier(2)

        def add_all(app: Any, who: int) -> list[str]:
            async def go() -> list[str]:
                outcomes = []
                for gid in groups:
                    together.wait()  # both processes ask for the same group's last seat at once
                    try:
                        await app.social.add_member(owner, gid, who)
                        outcomes.append("added")
                    except HongbaoError as exc:
                        outcomes.append(exc.code)
                return outcomes

            return asyncio.run(go())

        # When each process adds a different friend to every group at the same moment.
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(lambda args: add_all(*args), [(one, x), (two, y)])
        sizes = [one.store.read_sync(lambda tx, g=gid: tx.member_count(g)) for gid in groups]
    finally:
        two.close()
        one.close()

    # Then every group has exactly 3 members, and for each group one add won and the other was told group_full.
    assert sizes == [3] * len(groups)
    assert all(sorted(pair) == ["added", "group_full"] for pair in zip(first, second, strict=True))
