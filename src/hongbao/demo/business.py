"""Business scenes: an enterprise's campaign for its followers and the Gala's shake (摇一摇) round."""

from __future__ import annotations

from datetime import timedelta

from rich.markup import escape
from rich.table import Table

from hongbao.demo.story import PASSWORD, Story, scene_title
from hongbao.domain.errors import HongbaoError
from hongbao.domain.money import format_fen


async def _enterprise(story: Story, role: str, username: str, display_name: str, top_up_fen: int) -> int:
    """A company account, verified as an enterprise by an admin, with money in its wallet."""
    if role not in story.ids:
        uid = await story.app.users.register(username, PASSWORD, display_name)
        story.ids[role], story.names[uid] = uid, display_name
        await story.app.store.write(lambda tx: tx.set_verified_as(uid, "enterprise"))
        if top_up_fen:
            await story.app.wallet.top_up(uid, top_up_fen)
    return story.ids[role]


async def enterprise_campaign(story: Story) -> None:
    scene_title(story, "企业红包", "Tencent's campaign for its followers")
    app, camp = story.app, story.app.campaigns
    tencent = await _enterprise(story, "tencent", "tengxun", "腾讯 Tencent", 100_000)
    shop = await camp.register_merchant(tencent, "全聚德 前门店", 39.8990, 116.3980)
    now = story.clock.now()
    duck = await camp.add_offer(
        shop["id"], tencent, title="烤鸭立减 ¥20", face_value_fen=2_000, stock=2, expires_at=now + timedelta(days=30)
    )
    created = await camp.create(
        tencent, channel="followers", name="腾讯新春红包", logo_url="https://example.com/tencent.png",
        cover_text="腾讯给您拜年", starts_at=now, ends_at=now + timedelta(hours=6), budget_fen=3_000,
        prizes=[
            {"kind": "cash", "amount_fen": 288, "weight": 3},
            {"kind": "cash", "amount_fen": 888, "weight": 1, "count": 1},
            {"kind": "coupon", "offer_id": duck["id"], "weight": 2},
        ],
        per_user_max=2, per_day_max=1,
    )  # fmt: skip
    story.say(
        f"  {story.name('tencent')} funds “{escape(created['name'])}” with {format_fen(created['budget_fen'])} "
        "for its followers: ¥2.88 ×3, ¥8.88 ×1 (one only) or a roast-duck coupon ×2 by weight; 2 per user, 1 a day."
    )
    for role in ("ming", "hong", "mum"):
        await app.social_graph.follow(story.ids[role], tencent)
    table = Table("who", "prize", title="领取 Claims")
    holder = ""  # who won the duck coupon
    for role in ("ming", "hong", "mum", "ming", "grandma"):
        try:
            won = await camp.claim(created["id"], story.ids[role])
        except HongbaoError as exc:
            table.add_row(story.name(role), f"[red]{exc.code}[/]")
            continue
        prize = format_fen(won["amount_fen"]) if won["kind"] == "cash" else "🦆 coupon"
        table.add_row(story.name(role), prize)
        if won["kind"] == "coupon":
            assert won["coupon_id"] is not None, "a coupon prize names its coupon"
            story.packets["duck_coupon"] = won["coupon_id"]
            holder = role
    story.console.print(table)
    if "duck_coupon" in story.packets:
        coupon_id = story.packets["duck_coupon"]
        # The coupon's number is sequential; its redeem code shows only in the holder's own coupon list.
        shown = await camp.coupons(story.ids[holder])
        code = next(c["redeem_code"] for c in shown["coupons"] if c["id"] == coupon_id)
        guess = "0000 0000" if code != "00000000" else "1111 1111"
        try:
            await camp.redeem(coupon_id, tencent, guess)
        except HongbaoError as exc:
            story.refused(f"the restaurant types coupon No. {coupon_id} with a made-up code", exc)
        await camp.redeem(coupon_id, tencent, f"{code[:4]} {code[4:]}")
        story.say(f"  {story.name(holder)} shows the code {code[:4]} {code[4:]} at the till: the coupon is redeemed")
        try:
            await camp.redeem(coupon_id, tencent, code)
        except HongbaoError as exc:
            story.refused("the restaurant scans the coupon a second time", exc)
    figures = await camp.figures(created["id"], tencent)
    story.say(
        f"  figures: {figures['issued']} issued to {figures['unique_claimers']} claimers, "
        f"{format_fen(figures['claimed_fen'])} paid, {figures['coupons_redeemed']} coupon redeemed, "
        f"{format_fen(figures['remaining_fen'])} left"
    )
    before = await app.wallet.balance(tencent)
    story.clock.jump(7)
    closed = await camp.close_ended_campaigns()
    after = await app.wallet.balance(tencent)
    story.say(f"  7 hours later it ends ({closed} closed): Tencent {format_fen(before)} → {format_fen(after)}")


async def gala_shake(story: Story) -> None:
    scene_title(story, "春晚摇一摇", "The Gala: shake for sponsors' pools, nearby merchants")
    app, camp, shake = story.app, story.app.campaigns, story.app.shake
    cctv = await _enterprise(story, "cctv", "cctv", "央视春晚 CCTV Gala", 0)
    jd = await _enterprise(story, "jd", "jingdong", "京东 JD", 50_000)
    tencent = await _enterprise(story, "tencent", "tengxun", "腾讯 Tencent", 100_000)
    now = story.clock.now()
    store = await camp.register_merchant(jd, "京东便利店 王府井", 39.9110, 116.4100)
    milk_tea = await camp.add_offer(
        store["id"], jd, title="奶茶买一送一", face_value_fen=1_500, stock=3, expires_at=now + timedelta(days=7)
    )
    await camp.register_merchant(tencent, "全聚德 和平门", 39.8990, 116.3800)
    nearby = await camp.nearby(jd, 39.9087, 116.3975, 2_000)
    table = Table("offer", "merchant", "distance", title="附近商家 Nearby offers (2 km of Tiananmen)")
    for o in nearby["offers"]:
        table.add_row(escape(o["title"]), escape(o["merchant_name"]), f"{o['distance_m']:.0f} m")
    story.console.print(table)
    event = await shake.create_event(
        cctv, name="2026 春晚摇一摇", rounds=[(now + timedelta(minutes=1), now + timedelta(minutes=11))],
        win_permille=600, cards=["马年大吉", "万事如意", "身体健康"],
    )  # fmt: skip
    pools = [
        await shake.add_pool(event["id"], tencent, budget_fen=1_000, name="腾讯",
                             prizes=[{"kind": "cash", "amount_fen": 188}, {"kind": "cash", "amount_fen": 66}]),
        await shake.add_pool(event["id"], jd, budget_fen=500, name="京东",
                             prizes=[{"kind": "cash", "amount_fen": 100},
                                     {"kind": "coupon", "offer_id": milk_tea["id"]}]),
    ]  # fmt: skip
    story.say(
        f"  {story.name('cctv')} schedules a 10-minute round; sponsors fund pools: "
        + ", ".join(f"{escape(p['name'])} {format_fen(p['budget_fen'])}" for p in pools)
        + f"; at most {event['wins_per_user_max']} wins per person."
    )
    try:
        await shake.shake(event["id"], story.ids["ming"])
    except HongbaoError as exc:
        story.refused(f"{story.name('ming')} shakes before the round", exc)
    story.clock.at += timedelta(minutes=2)
    table = Table("who", "shakes", title="摇一摇 Results")
    for role in ("grandma", "mum", "dad", "ming", "hong", "uncle"):
        results = []
        for _ in range(5):
            try:
                got = await shake.shake(event["id"], story.ids[role])
            except HongbaoError as exc:
                results.append(f"[red]{exc.code}[/]")
                break
            if got["result"] == "cash":
                results.append(f"[bold red]{format_fen(got['amount_fen'])}[/]")
            elif got["result"] == "coupon":
                results.append("🧋 coupon")
            elif got["result"] == "card":
                results.append(f"🎴 {escape(got['card'])}")
            else:
                results.append("·")
            story.clock.at += timedelta(seconds=1)
        table.add_row(story.name(role), "  ".join(results))
    story.console.print(table)
    burst: list[object] = []
    for _ in range(6):
        try:
            burst.append((await shake.shake(event["id"], story.ids["ming"]))["result"])
        except HongbaoError as exc:
            story.refused(f"{story.name('ming')} shakes 6 times in one second", exc)
            break
    before = {r: await app.wallet.balance(story.ids[r]) for r in ("tencent", "jd")}
    story.clock.at += timedelta(minutes=15)
    closed = await camp.close_ended_campaigns()
    after = {r: await app.wallet.balance(story.ids[r]) for r in ("tencent", "jd")}
    story.say(
        f"  The round ends; {closed} pools close and their rest goes home: "
        + ", ".join(f"{story.name(r)} {format_fen(before[r])} → {format_fen(after[r])}" for r in before)
    )
