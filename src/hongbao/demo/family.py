"""The family's scenes: signing up, friends and the group, the first packets, refusals, retries, expiry, statements."""

from __future__ import annotations

import asyncio

from rich.markup import escape
from rich.table import Table

from hongbao.demo.story import FAMILY, PASSWORD, Story, scene_title
from hongbao.domain.errors import HongbaoError
from hongbao.domain.money import format_fen
from hongbao.service.idempotency import IdempotencyKey


async def family_joins(story: Story) -> None:
    scene_title(story, "一家人注册", "The family signs up")
    app = story.app
    table = Table("who", "username", "top-up", "balance")
    for m in FAMILY:
        uid = await app.users.register(m.username, PASSWORD, m.display_name)
        story.ids[m.role], story.names[uid] = uid, m.display_name
        await app.wallet.top_up(uid, m.top_up_fen)
        table.add_row(
            escape(m.display_name), m.username, format_fen(m.top_up_fen), format_fen(await app.wallet.balance(uid))
        )
    story.console.print(table)


async def friends_and_group(story: Story) -> None:
    scene_title(story, "加好友、建群", "Friends and the family group")
    social, roles = story.app.social, [m.role for m in FAMILY]
    pairs = 0
    for i, a in enumerate(roles):
        for b in roles[i + 1 :]:
            await social.request_friend(story.ids[a], story.ids[b])
            await social.accept_friend(story.ids[b], story.ids[a])
            pairs += 1
    group = await social.create_group(story.ids["grandma"], "相亲相爱一家人 The family", [story.ids[r] for r in roles])
    story.group_id = group["id"]
    story.say(
        f"  {pairs} friendships accepted; group [bold]{escape(group['name'])}[/] has {len(group['members'])} members."
    )


async def personal_packet(story: Story) -> None:
    scene_title(story, "个人红包 · 压岁钱", "Grandma to Ming")
    packets = story.app.packets
    sent = await packets.send_personal(story.ids["grandma"], story.ids["ming"], 8_888, "压岁钱，学业进步！")
    story.packets["lucky_money"] = sent["id"]
    story.say(
        f"  {story.name('grandma')} → {story.name('ming')}: {format_fen(sent['total_fen'])} "
        f"“{escape(sent['greeting'])}”"
    )
    got = await story.open("lucky_money", "ming")
    assert isinstance(got, int), got
    story.say(f"  {story.name('ming')} opens it: [bold green]{format_fen(got)}[/]")


async def equal_group_packet(story: Story) -> None:
    scene_title(story, "群红包 · 普通红包", "Dad's equal packet")
    packets = story.app.packets
    sent = await packets.send_group(
        story.ids["dad"], story.group_id, how="equal", shares_count=5, amount_each_fen=666, greeting="六六大顺"
    )
    story.packets["equal"] = sent["id"]
    story.say(
        f"  {story.name('dad')} sends {format_fen(sent['total_fen'])} in {sent['shares_count']} "
        f"equal shares “{escape(sent['greeting'])}”"
    )
    for role in ("grandma", "mum", "ming", "hong", "uncle"):
        got = await story.open("equal", role)
        assert isinstance(got, int), got
        story.say(f"  {story.name(role)} gets {format_fen(got)}")


async def lucky_race(story: Story) -> None:
    scene_title(story, "拼手气红包 · 同时抢", "Mum's lucky packet")
    app = story.app
    sent = await app.packets.send_group(
        story.ids["mum"],
        story.group_id,
        how="double_mean",
        shares_count=5,
        total_fen=10_000,
        greeting="马年大吉，拼手气！",
    )
    story.packets["lucky"] = sent["id"]
    story.say(
        f"  {story.name('mum')} sends {format_fen(sent['total_fen'])} in {sent['shares_count']} "
        f"lucky shares (double mean 二倍均值) “{escape(sent['greeting'])}”"
    )
    racers = ["grandma", "dad", "ming", "hong", "uncle"]
    batches = app.store.batches
    results = await asyncio.gather(*(story.open("lucky", r) for r in racers))
    story.say(
        f"  {len(racers)} opens at the same moment (asyncio.gather), settled in "
        f"{app.store.batches - batches} write transaction(s) by group commit:"
    )
    assert all(isinstance(got, int) for got in results), results
    detail = await app.packets.detail(sent["id"], story.ids["mum"])
    table = Table("#", "who", "amount", "", title="拆红包 who got what")
    for seq, claim in enumerate(detail["claims"], start=1):
        luck = "[bold yellow]手气最佳 best luck[/]" if claim["best_luck"] else ""
        table.add_row(str(seq), escape(claim["display_name"] or ""), format_fen(claim["amount_fen"]), luck)
    story.console.print(table)
    best = next(c for c in detail["claims"] if c["best_luck"])
    story.say(
        f"  手气最佳: [bold yellow]{escape(best['display_name'] or '')}[/] with {format_fen(best['amount_fen'])}; "
        f"shares sum to {format_fen(detail['claimed_fen'])}."
    )


async def line_cut_and_refusals(story: Story) -> None:
    scene_title(story, "拼手气红包 · 线段切割", "Uncle's lucky packet")
    sent = await story.app.packets.send_group(
        story.ids["uncle"], story.group_id, how="line_cut", shares_count=4, total_fen=5_200, greeting="我爱你们"
    )
    story.packets["uncle"] = sent["id"]
    story.say(
        f"  {story.name('uncle')} sends {format_fen(sent['total_fen'])} in {sent['shares_count']} "
        f"lucky shares (line cut 线段切割) “{escape(sent['greeting'])}”"
    )
    for role in ("ming", "hong"):
        got = await story.open("uncle", role)
        assert isinstance(got, int), got
        story.say(f"  {story.name(role)} gets {format_fen(got)}")
    story.say("  The others are watching the Gala (春晚) and forget to open it.")
    story.say("  Refusals carry stable codes:")
    again = await story.open("uncle", "hong")
    assert isinstance(again, HongbaoError), again
    story.refused(f"{story.name('hong')} tries uncle's packet again", again)
    late = await story.open("lucky", "mum")
    assert isinstance(late, HongbaoError), late
    story.refused(f"{story.name('mum')}, late, tries her own lucky packet", late)


async def idempotent_retry(story: Story) -> None:
    scene_title(story, "幂等重试", "A retried send")
    app, dad, hong = story.app, story.ids["dad"], story.ids["hong"]
    story.say("  Dad sends Hong ¥20.00; his phone loses signal and the app retries with the same Idempotency-Key.")
    key, body = "cny-2026-dad-hong-1", {"to": hong, "amount_fen": 2_000, "greeting": "给小红买书"}
    before = await app.wallet.balance(dad)
    replies = []
    for _attempt in range(2):
        idem = IdempotencyKey.of(dad, key, "send_personal", body)
        replies.append(await app.packets.send_personal(dad, hong, 2_000, "给小红买书", idem=idem))
        story.say(
            f"  attempt {len(replies)}: packet {replies[-1]['id']}, {format_fen(replies[-1]['total_fen'])}; "
            f"dad's balance {format_fen(await app.wallet.balance(dad))}"
        )
    assert replies[0] == replies[1], replies
    after = await app.wallet.balance(dad)
    story.say(f"  same reply both times: {replies[0] == replies[1]}; debited once: {format_fen(before - after)}")
    try:
        other = IdempotencyKey.of(dad, key, "send_personal", {**body, "amount_fen": 3_000})
        await app.packets.send_personal(dad, hong, 3_000, "给小红买书", idem=other)
    except HongbaoError as exc:
        story.refused("the same key with another amount", exc)
    story.packets["retried"] = replies[0]["id"]
    got = await story.open("retried", "hong")
    assert isinstance(got, int), got
    story.say(f"  {story.name('hong')} opens it: {format_fen(got)}")


async def expiry_refund(story: Story) -> None:
    story.clock.jump(25)
    scene_title(story, "过期退款", "Expiry refunds")
    app, uncle = story.app, story.ids["uncle"]
    story.say("  The clock jumps 25 hours: every packet lives 24 h, then its remainder goes back to the sender.")
    before = await app.wallet.balance(uncle)
    expired = await app.packets.expire_due()
    after = await app.wallet.balance(uncle)
    detail = await app.packets.detail(story.packets["uncle"], uncle)
    story.say(
        f"  {expired} packet(s) expired; uncle's packet is [bold]{detail['status']}[/]: "
        f"claimed {format_fen(detail['claimed_fen'])}, refunded {format_fen(detail['refunded_fen'])}"
    )
    story.say(f"  {story.name('uncle')}: {format_fen(before)} → {format_fen(after)}")
    late = await story.open("uncle", "grandma")
    assert isinstance(late, HongbaoError), late
    story.refused(f"{story.name('grandma')} tries it now", late)


async def statements(story: Story) -> None:
    scene_title(story, "账单", "Statements")
    table = Table("who", "topped up", "sent", "received", "refunded", "balance")
    for m in FAMILY:
        uid = story.ids[m.role]
        sums = {"top_up": 0, "sent": 0, "received": 0, "refunded": 0, "withdrawal": 0}
        cursor: int | None = None
        while True:
            page = await story.app.wallet.statement(uid, cursor, 100)
            for entry in page["entries"]:
                sums[entry["kind"]] += entry["amount_fen"]
            if page["next_cursor"] is None:
                break
            cursor = int(page["next_cursor"])
        balance = await story.app.wallet.balance(uid)
        assert sum(sums.values()) == balance, (m.role, sums, balance)
        table.add_row(
            escape(m.display_name),
            format_fen(sums["top_up"]),
            format_fen(-sums["sent"]),
            format_fen(sums["received"]),
            format_fen(sums["refunded"]),
            format_fen(balance),
        )
    story.console.print(table)
