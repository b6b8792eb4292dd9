"""Demo data for the embedded server's first start: users, friendships, a group and balances."""

from __future__ import annotations

from hongbao.bootstrap import App

DEMO_PASSWORD = "hongbao123"
DEMO_USERS = [("alice", "Alice 爱丽丝"), ("bob", "Bob 小明"), ("carol", "Carol 小红"), ("dave", "Dave 大伟")]
DEMO_TOPUP_FEN = 100_000  # 1,000 yuan each
SEEDED_KEY = "demo_seeded"
# Verified accounts (same password): a celebrity whom the demo users follow, and a company with a budget.
DEMO_VERIFIED = [("star", "Star 明星", "celebrity", 500_000), ("acme", "ACME 爱克米", "enterprise", 2_000_000)]
DEMO_ADMIN = "alice"


async def seed_demo(app: App) -> bool:
    """Create the demo world once; return False if it was already there."""
    if await app.store.read(lambda tx: tx.meta_get(SEEDED_KEY)) is not None:
        return False
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
        if verified_as == "celebrity":
            for fan in ids:
                await app.social_graph.follow(fan, vid)
    await app.store.write(lambda tx: tx.meta_set(SEEDED_KEY, "1"))
    return True
