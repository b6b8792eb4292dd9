"""Scenes of the other packet kinds and the social graph: followers and chat, relay, asks, transfers,
face to face (面对面), password (口令) and the celebrity's packet."""

from __future__ import annotations

import asyncio

from rich.markup import escape
from rich.table import Table

from hongbao.demo.story import PASSWORD, Story, scene_title
from hongbao.domain.errors import HongbaoError
from hongbao.domain.money import format_fen


async def followers_and_conversations(story: Story) -> None:
    scene_title(story, "关注明星 · 聊天", "Following a celebrity; the family chat")
    app, graph = story.app, story.app.social_graph
    if "star" not in story.ids:  # another scene may have made the celebrity already
        uid = await app.users.register("xingxing", PASSWORD, "星星 Star")
        story.ids["star"], story.names[uid] = uid, "星星 Star"
    star = story.ids["star"]
    username = (await graph.profile(star, star))["username"]
    await graph.verify_username(username, "celebrity")
    for role in ("ming", "hong", "mum"):
        await graph.follow(story.ids[role], star)
    seen = await graph.profile(story.ids["ming"], star)
    story.say(
        f"  An admin verifies {escape(seen['display_name'])} as [bold]{seen['verified_as']}[/]; "
        f"{seen['follower_count']} of the family follow (Ming follows: {seen['followed_by_me']})."
    )
    convs = app.conversations
    pair = await convs.with_friend(story.ids["ming"], story.ids["grandma"])
    await convs.post_text(story.ids["ming"], pair["id"], "谢谢奶奶！Thank you, Grandma!")
    page = await convs.messages(story.ids["ming"], pair["id"], None, 10)
    table = Table("who", "type", "message", title=f"聊天 Ming ↔ {story.name('grandma')}, oldest first")
    for m in reversed(page["messages"]):
        who = escape(m["sender_name"] or "hongbao")
        text = f"🧧 {escape(m['text'])}" if m["type"] == "packet" else escape(m["text"])
        table.add_row(who, m["type"], text)
    story.console.print(table)
    family = await convs.of_group(story.ids["ming"], story.group_id)
    newest = family["last_message"]
    assert newest is not None, "the family's packets were posted in its chat"
    story.say(
        f"  The family group's chat holds every packet with its claim notices; the newest: "
        f"“{escape(newest['text'])}” ({family['unread_count']} unread for Ming)."
    )


async def relay_chain(story: Story) -> None:
    scene_title(story, "接龙红包", "Grandma starts a relay chain")
    app, family = story.app, ["grandma", "mum", "dad", "ming", "hong", "uncle"]
    chain = await app.relay.start(
        story.ids["grandma"],
        story.group_id,
        total_fen=600,
        shares_count=5,
        greeting="接龙！手气最佳发下一个",
        min_fen=200,
        deadline_s=3600,
    )
    story.say(
        f"  {story.name('grandma')} sends round 1: {format_fen(600)} in 5 lucky shares; the best-luck claimer "
        f"owes the next round (at least {format_fen(chain['min_fen'])}) within an hour."
    )
    sender = "grandma"
    for round_no in (1, 2):
        current = chain["current_packet"]
        assert current is not None, "an active chain has a round to open"
        packet = current["id"]
        for role in family:
            if role != sender:
                await app.packets.open(packet, story.ids[role])
        chain = await app.relay.detail(chain["id"], story.ids["grandma"])
        owing = next(r for r in family if story.ids[r] == chain["owed_by"])
        story.say(f"  round {round_no} is gone; 手气最佳 [bold yellow]{story.name(owing)}[/] owes round {round_no + 1}")
        if round_no == 2:
            break
        bystander = next(r for r in family if r not in (owing, "grandma"))
        tries = ((bystander, 300, story.name(bystander)), (owing, 100, f"{story.name(owing)}, 1 yuan"))
        for who, amount, label in tries:
            try:
                await app.relay.next_round(chain["id"], story.ids[who], total_fen=amount, shares_count=5)
            except HongbaoError as exc:
                story.refused(label, exc)
        chain = await app.relay.next_round(
            chain["id"], story.ids[owing], total_fen=300, shares_count=5, greeting="第二棒"
        )
        story.say(f"  {story.name(owing)} sends round 2: {format_fen(300)}")
        sender = owing
    story.clock.jump(1.5)
    ended = await app.relay.end_overdue_chains()
    story.say(f"  90 minutes later {story.name(owing)} has not sent round 3: the deadline pass ends {ended} chain.")
    chain = await app.relay.detail(chain["id"], story.ids["grandma"])
    table = Table(
        "round",
        "sender",
        "amount",
        "手气最佳 best luck",
        title=f"接龙 #{chain['id']}: {chain['status']} ({chain['ended_reason']})",
    )
    for r in chain["rounds"]:
        best = story.names.get(r["best_luck_user_id"], "") if r["best_luck_user_id"] else ""
        table.add_row(str(r["round"]), escape(story.names[r["sender_id"]]), format_fen(r["total_fen"]), escape(best))
    story.console.print(table)


async def asks(story: Story) -> None:
    scene_title(story, "讨红包", "Asking for a packet")
    app = story.app
    ask = await app.asks.ask(story.ids["ming"], to_user_id=story.ids["uncle"], amount_fen=666, message="舅舅新年好！")
    story.say(f"  {story.name('ming')} asks {story.name('uncle')} for {format_fen(666)}: “{escape(ask['message'])}”")
    done = await app.asks.fulfil(ask["id"], story.ids["uncle"], greeting="拿去买书")
    got = await app.packets.open(done["packet"]["id"], story.ids["ming"])
    story.say(
        f"  {story.name('uncle')} fulfils it in one step; Ming opens the linked packet: "
        f"[bold green]{format_fen(got['amount_fen'])}[/]"
    )
    await app.asks.update_settings(story.ids["grandma"], allow_asks=False)
    try:
        await app.asks.ask(story.ids["hong"], to_user_id=story.ids["grandma"])
    except HongbaoError as exc:
        story.refused(f"Grandma turned asking off; {story.name('hong')} asks her", exc)
    tries = await asyncio.gather(
        *(app.asks.ask(story.ids["hong"], to_user_id=story.ids["dad"]) for _ in range(12)), return_exceptions=True
    )
    ok = [t for t in tries if isinstance(t, dict)]
    refused = [t for t in tries if isinstance(t, HongbaoError)]
    story.say(f"  {story.name('hong')} asks Dad 12 times at once: {len(ok)} asks go through, {len(refused)} refused")
    if refused:
        story.refused("the 11th", refused[0])
    declined = await app.asks.decline(ok[0]["id"], story.ids["dad"])
    story.say(f"  Dad declines one (status {declined['status']}) and ignores the rest: they expire in 24 h.")


async def transfers(story: Story) -> None:
    scene_title(story, "转账", "Transfers between friends")
    app, t = story.app, story.app.transfers
    sent = await t.send(story.ids["mum"], story.ids["uncle"], 20_000, "年夜饭的钱")
    await t.accept(sent["id"], story.ids["uncle"])
    story.say(f"  {story.name('mum')} → {story.name('uncle')} {format_fen(20_000)} “年夜饭的钱”: accepted")
    back = await t.send(story.ids["dad"], story.ids["ming"], 5_000, "零花钱")
    await t.give_back(back["id"], story.ids["ming"])
    story.say(f"  {story.name('dad')} → {story.name('ming')} {format_fen(5_000)}: Ming returns it (太多了)")
    late = await t.send(story.ids["uncle"], story.ids["hong"], 1_000, "奶茶")
    story.say(f"  {story.name('uncle')} → {story.name('hong')} {format_fen(1_000)}: Hong is asleep…")
    before = await app.wallet.balance(story.ids["uncle"])
    story.clock.jump(24.5)
    try:
        await t.accept(late["id"], story.ids["hong"])
    except HongbaoError as exc:
        story.refused(f"a day later {story.name('hong')} accepts", exc)
    refunded = await t.refund_overdue_transfers()
    after = await app.wallet.balance(story.ids["uncle"])
    story.say(f"  the scheduler refunds {refunded} transfer; uncle {format_fen(before)} → {format_fen(after)}")


async def face_to_face(story: Story) -> None:
    scene_title(story, "面对面红包 · 饭桌上", "Uncle's face-to-face packet at dinner")
    app, kinds = story.app, story.app.open_kinds
    restaurant = (39.9087, 116.3975)
    sent = await kinds.send_face_to_face(
        story.ids["uncle"],
        how="double_mean",
        shares_count=3,
        total_fen=3_000,
        greeting="见面有份",
        lat=restaurant[0],
        lng=restaurant[1],
        radius_m=50,
    )
    story.say(
        f"  {story.name('uncle')} sends {format_fen(sent['total_fen'])} in 3 shares; only he sees the code "
        f"[bold]{sent['code']}[/] and reads it out (claimers must stand within 50 m)."
    )
    neighbour = await app.users.register("linju", PASSWORD, "邻居 Neighbour")
    story.names[neighbour] = "邻居 Neighbour"
    for uid in (story.ids["ming"], story.ids["hong"], neighbour):
        got = await kinds.open_by_code(uid, sent["code"], address="demo", lat=restaurant[0] + 0.0002, lng=restaurant[1])
        story.say(f"  {escape(story.names[uid])} types it: [bold green]{format_fen(got['amount_fen'])}[/]")
    story.say("  (the neighbour is nobody's friend: a code needs no friendship)")
    wrong = f"{(int(sent['code']) + 1) % 1_000_000:06d}"
    try:
        await kinds.open_by_code(story.ids["dad"], wrong, address="demo", lat=restaurant[0], lng=restaurant[1])
    except HongbaoError as exc:
        story.refused(f"{story.name('dad')} mistypes {wrong}", exc)


async def password_packet(story: Story) -> None:
    scene_title(story, "口令红包", "Mum's password packet")
    kinds, sharing = story.app.open_kinds, story.app.sharing
    sent = await kinds.send_password(
        story.ids["mum"], phrase="马到成功 2026", how="equal", shares_count=4, amount_each_fen=520, greeting="口令见"
    )
    link = await sharing.share(sent["id"], story.ids["mum"], platform="wechat", channel="app")
    story.say(
        f"  {story.name('mum')} sends 4 × {format_fen(520)} under the phrase “马到成功 2026” and shares {link['path']} "
        "to WeChat; the landing page shows a card that says “type the phrase you were given”."
    )
    for role, typed in (("grandma", " 马到成功  2026 "), ("uncle", "马到成功\u3000２０２６"), ("dad", "马到成功")):
        try:
            await kinds.open_by_phrase(story.ids[role], typed, address="demo", platform="wechat")
        except HongbaoError as exc:
            story.refused(f"{story.name(role)} types {typed!r}", exc)
        else:
            story.say(f"  {story.name(role)} types {typed!r}: it opens")
    try:
        await kinds.send_password(
            story.ids["dad"], phrase="马到成功 2026", how="equal", shares_count=1, amount_each_fen=100
        )
    except HongbaoError as exc:
        story.refused(f"{story.name('dad')} wants the same phrase", exc)
    figures = await sharing.figures(sent["id"], story.ids["mum"])
    story.say(
        f"  Mum's figures: {figures['shares']['total']} share(s), claims by platform "
        f"{ {k: v for k, v in figures['claims']['by_platform'].items() if v} }"
    )


async def celebrity_packet(story: Story) -> None:
    scene_title(story, "明星红包", "The star thanks the fans")
    app, kinds = story.app, story.app.open_kinds
    star = story.ids["star"]
    await app.wallet.top_up(star, 1_000_000)
    sent = await kinds.send_celebrity(
        star, how="double_mean", shares_count=1_000, total_fen=100_000, greeting="谢谢大家的支持"
    )
    story.say(
        f"  {story.name('star')} (verified) sends {format_fen(sent['total_fen'])} in "
        f"{sent['shares_count']:,} shares, for followers only."
    )
    story.packets["celebrity"] = sent["id"]
    for role in ("ming", "hong", "mum", "dad"):
        got = await story.open("celebrity", role)
        if isinstance(got, HongbaoError):
            story.refused(f"{story.name(role)} (not a follower)", got)
        else:
            story.say(f"  {story.name(role)} (a follower) gets {format_fen(got)}")
