"""Demo data for the embedded server's first start: users, friendships, a group, balances, and a Gala with sponsors.

The Gala (a shake event whose first round is on at once, then a round every hour), ACME's campaign for its
followers and ACME's shop with a coupon offer give the shake, campaign and nearby pages something to show.
"""

from __future__ import annotations

from datetime import timedelta

from hongbao.bootstrap import App

DEMO_PASSWORD = "hongbao123"
DEMO_USERS = [("alice", "Alice 爱丽丝"), ("bob", "Bob 小明"), ("carol", "Carol 小红"), ("dave", "Dave 大伟")]
DEMO_TOPUP_FEN = 100_000  # 1,000 yuan each
SEEDED_KEY = "demo_seeded"
# Verified accounts (same password): a celebrity whom the demo users follow, and a company with a budget.
DEMO_VERIFIED = [("star", "Star 明星", "celebrity", 500_000), ("acme", "ACME 爱克米", "enterprise", 2_000_000)]
DEMO_ADMIN = "alice"


async def seed_demo(app: App, *, into_empty_only: bool = False) -> str:
    """Create the demo world once: "created", "ready" (it was already there), or "skipped" when `into_empty_only`
    and the database already has users (demo accounts with a published password never join real ones unasked)."""
    if await app.store.read(lambda tx: tx.meta_get(SEEDED_KEY)) is not None:
        return "ready"
    if into_empty_only and await app.store.read(lambda tx: tx.has_users()):
        return "skipped"
    ids = [await app.users.register(name, DEMO_PASSWORD, shown) for name, shown in DEMO_USERS]
    for i, a in enumerate(ids):
        await app.wallet.top_up(a, DEMO_TOPUP_FEN)
        for b in ids[i + 1 :]:
            await app.social.request_friend(a, b)
            await app.social.accept_friend(b, a)
    await app.social.create_group(ids[0], "新春快乐 Spring Festival", ids[1:])
    await app.social_graph.grant_admin(DEMO_ADMIN)
    for name, shown, verified_as, top_up_fen in DEMO_VERIFIED:
        vid = await app.users.register(name, DEMO_PASSWORD, shown)
        await app.wallet.top_up(vid, top_up_fen)
        await app.social_graph.verify_username(name, verified_as)
        for fan in ids:  # the demo users follow the celebrity and the company
            await app.social_graph.follow(fan, vid)
        if verified_as == "enterprise":
            await seed_gala(app, vid)
    await app.store.write(lambda tx: tx.meta_set(SEEDED_KEY, "1"))
    return "created"


# By Tiananmen, 560 m from the nearby page's manual example (39.9042, 116.4074).
DEMO_SHOP = ("ACME 便利店 Store", 39.9055, 116.4010)


async def seed_gala(app: App, acme: int) -> None:
    """ACME's shop and coupon offer, its campaign for followers, and a Gala in rounds with ACME's prize pool."""
    now = app.deps.clock.now()
    name, lat, lng = DEMO_SHOP
    shop = await app.campaigns.register_merchant(acme, name, lat, lng)
    offer = await app.campaigns.add_offer(
        shop["id"], acme, title="满 50 减 10 · ¥10 off ¥50", face_value_fen=1_000, stock=1_000,
        expires_at=now + timedelta(days=30),
    )  # fmt: skip
    await app.campaigns.create(
        acme, channel="followers", name="ACME 新春红包 New Year", cover_text="关注有礼 · Thanks for following",
        starts_at=now, ends_at=now + timedelta(days=30), budget_fen=100_000, per_user_max=1,
        prizes=[{"kind": "cash", "amount_fen": 188, "weight": 6}, {"kind": "cash", "amount_fen": 888, "weight": 1},
                {"kind": "coupon", "offer_id": offer["id"], "weight": 3}],
    )  # fmt: skip
    first = (now, now + timedelta(minutes=20))  # on at once, so a first visit can shake
    hourly = [(now + timedelta(hours=h), now + timedelta(hours=h, minutes=10)) for h in range(1, 24)]
    gala = await app.shake.create_event(
        acme, name="春晚摇一摇 Gala", rounds=[first, *hourly], win_permille=500, wins_per_user_max=3,
        cards=["马年大吉 Happy Year of the Horse", "万事如意 All the best"],
    )  # fmt: skip
    await app.shake.add_pool(
        gala["id"], acme, name="ACME 爱克米", cover_text="ACME 祝您新春快乐", budget_fen=50_000,
        prizes=[{"kind": "cash", "amount_fen": 88, "weight": 10}, {"kind": "cash", "amount_fen": 888, "weight": 1},
                {"kind": "coupon", "offer_id": offer["id"], "weight": 4}],
    )  # fmt: skip
