"""明星红包 over HTTP: only verified celebrities send, only followers open."""

from __future__ import annotations

from tests.api.conftest import assert_problem, balance
from tests.open.conftest import post, verify_celebrity

BODY = {"split": "double_mean", "shares_count": 500, "total_fen": 50_000, "greeting": "谢谢粉丝"}


def test_a_celebrity_packet_gives_shares_to_followers_only(client, hb, new_user):
    star, fan, passerby = new_user("star", fen=100_000), new_user("fan"), new_user("passerby")
    verify_celebrity(hb, star)
    assert client.post(f"/v1/users/{star.id}/follow", headers=fan.headers).status_code in (200, 201)
    sent = post(client, "/v1/packets/celebrity", star, BODY)
    assert sent.status_code == 201, sent.text
    packet = sent.json()
    assert packet["shares_count"] == 500  # far above the group limit of 100

    got = client.post(f"/v1/packets/{packet['id']}/open", headers=fan.headers)
    assert got.status_code == 200, got.text
    assert balance(client, fan) == got.json()["amount_fen"] >= 1
    assert_problem(client.post(f"/v1/packets/{packet['id']}/open", headers=passerby.headers), 403, "not_follower")
    assert_problem(client.post(f"/v1/packets/{packet['id']}/open", headers=star.headers), 403, "not_follower")


def test_an_unverified_account_gives_not_verified_and_keeps_its_money(client, new_user):
    pretender = new_user("pretender", fen=100_000)
    assert_problem(post(client, "/v1/packets/celebrity", pretender, BODY), 403, "not_verified")
    assert balance(client, pretender) == 100_000


def test_an_unfollow_after_the_cache_said_yes_gives_not_follower_at_open(client, hb, new_user):
    star, fan = new_user("star", fen=100_000), new_user("fan")
    verify_celebrity(hb, star)
    client.post(f"/v1/users/{star.id}/follow", headers=fan.headers)
    packet = post(client, "/v1/packets/celebrity", star, {**BODY, "shares_count": 2, "total_fen": 200}).json()
    assert client.post(f"/v1/packets/{packet['id']}/grab", headers=fan.headers).status_code == 200  # cached yes
    client.delete(f"/v1/users/{star.id}/follow", headers=fan.headers)
    assert_problem(client.post(f"/v1/packets/{packet['id']}/open", headers=fan.headers), 403, "not_follower")
    assert balance(client, fan) == 0


def test_celebrity_share_counts_above_the_setting_give_invalid_share_count(client, hb, new_user):
    star = new_user("star", fen=100_000)
    verify_celebrity(hb, star)
    body = {**BODY, "split": "equal", "total_fen": None, "amount_each_fen": 1, "shares_count": 1_000_001}
    assert_problem(post(client, "/v1/packets/celebrity", star, body), 422, "invalid_share_count")


def test_after_an_unfollow_is_caught_at_open_the_grab_gives_not_follower_too(client, hb, new_user):
    star, fan = new_user("star", fen=100_000), new_user("fan")
    verify_celebrity(hb, star)
    client.post(f"/v1/users/{star.id}/follow", headers=fan.headers)
    packet = post(client, "/v1/packets/celebrity", star, {**BODY, "shares_count": 2, "total_fen": 200}).json()
    assert client.post(f"/v1/packets/{packet['id']}/grab", headers=fan.headers).status_code == 200
    client.delete(f"/v1/users/{star.id}/follow", headers=fan.headers)
    assert_problem(client.post(f"/v1/packets/{packet['id']}/open", headers=fan.headers), 403, "not_follower")
    assert_problem(client.post(f"/v1/packets/{packet['id']}/grab", headers=fan.headers), 403, "not_follower")


def test_a_storm_of_distinct_followers_is_decided_by_a_read_per_turn_not_one_per_open(hb):
    """Thirty followers and five passers-by open at once (service level, as `hongbao serve` runs them on one loop):
    each gets its own answer, the followers' `admits` questions share one lookup, the writer decides each batch's
    openers with one read, and the ledger holds (the hb fixture reconciles)."""
    import asyncio

    from hongbao.domain.errors import HongbaoError
    from tests.service.helpers import balance as wallet_of
    from tests.service.helpers import register

    star, *people = register(hb, "star", *(f"fan{i}" for i in range(30)), *(f"passer{i}" for i in range(5)))
    fans, passers = people[:30], people[30:]
    assert hb.store.write_sync(lambda tx: tx.set_verified_as(star, "celebrity"))
    for fan in fans:
        hb.store.write_sync(lambda tx, fan=fan: tx.follow(fan, star, hb.deps.clock.now()))
    asyncio.run(hb.wallet.top_up(star, 10_000))
    packet = asyncio.run(hb.open_kinds.send_celebrity(star, how="double_mean", shares_count=40, total_fen=4_000))
    looks = []
    real_look = hb.store.look

    async def counted(job, *args, **kwargs):
        looks.append(job)
        return await real_look(job, *args, **kwargs)

    hb.store.look = counted  # the real store, its lookups counted

    async def storm():
        return await asyncio.gather(*(hb.packets.open(packet["id"], u) for u in fans + passers),
                                    return_exceptions=True)

    results = asyncio.run(storm())
    won = [r for r in results[:30] if not isinstance(r, BaseException)]
    refused = [r.code for r in results[30:] if isinstance(r, HongbaoError)]
    assert len(won) == 30 and refused == ["not_follower"] * 5
    assert sum(wallet_of(hb, f) for f in fans) == sum(r["amount_fen"] for r in won)
    asked = [job for job in looks if job.__qualname__.startswith("Followers.")]
    assert 1 <= len(asked) <= 3, f"{len(asked)} follower lookups for 35 openers"  # one per turn they arrived in


def test_the_followers_lookup_answers_what_the_transaction_reads_across_several_in_lists(hb):
    import asyncio

    from tests.service.helpers import register

    star, *people = register(hb, "star", *(f"fan{i}" for i in range(6)))
    following = people[::2]
    for fan in following:
        hb.store.write_sync(lambda tx, fan=fan: tx.follow(fan, star, hb.deps.clock.now()))
    asked = sorted({*people, *range(star + 100, star + 1_600)})  # past one IN list (hot.IN_LIST_MAX)
    looked = asyncio.run(hb.store.look(lambda q: q.followers_among(star, asked)))
    read = hb.store.read_sync(lambda tx: tx.followers_among(star, asked))
    assert looked == read == set(following)
