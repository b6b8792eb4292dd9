"""`hongbao demo`: a scripted Spring Festival (春节) story, run in-process on a throwaway SQLite store.

The story is a list of small scenes (`SCENES`), each an async function of the shared `Story`; a new
packet kind adds its scene to the list.  Scenes use only the service layer (users, wallet, social,
packets), print what happens with rich, and the demo ends with `reconcile`: it succeeds only when
every ledger invariant holds.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.domain.errors import HongbaoError
from hongbao.domain.money import format_fen
from hongbao.progress import progress_bar
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.reconcile import reconcile

PASSWORD = "hongbao-demo-2026"
# Lunar New Year's Eve (除夕) 2026, 20:00 in Beijing: the Gala starts.
EVE = datetime(2026, 2, 16, 12, 0, tzinfo=UTC)
BEIJING = timedelta(hours=8)


@dataclass(frozen=True)
class Member:
    """One person of the family: a role used by the script, a login name, a display name, a top-up."""

    role: str
    username: str
    display_name: str
    top_up_fen: int


FAMILY = [
    Member("grandma", "nainai", "奶奶 Grandma", 100_000),
    Member("mum", "mama", "妈妈 Mum", 50_000),
    Member("dad", "baba", "爸爸 Dad", 50_000),
    Member("ming", "xiaoming", "小明 Ming", 2_000),
    Member("hong", "xiaohong", "小红 Hong", 2_000),
    Member("uncle", "jiujiu", "舅舅 Uncle", 30_000),
]


class DemoClock:
    """The demo's clock: frozen on New Year's Eve until a scene moves it on."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def jump(self, hours: float) -> None:
        self.at += timedelta(hours=hours)


@dataclass
class Story:
    """What the scenes share: the wired app, the console, the clock and who/what was created so far."""

    app: App
    console: Console
    clock: DemoClock
    ids: dict[str, int] = field(default_factory=dict)  # role → user id
    names: dict[int, str] = field(default_factory=dict)  # user id → display name
    group_id: int = 0
    packets: dict[str, int] = field(default_factory=dict)  # script name → packet id

    def name(self, role: str) -> str:
        return escape(self.names[self.ids[role]])

    def say(self, text: str) -> None:
        self.console.print(text)

    def refused(self, who: str, exc: HongbaoError) -> None:
        self.say(f"  {who}: refused [bold red]{exc.code}[/] — {escape(exc.detail)}")

    async def open(self, packet: str, role: str) -> int | HongbaoError:
        """`role` opens a packet: the amount won, or the refusal."""
        try:
            reply = await self.app.packets.open(self.packets[packet], self.ids[role])
        except HongbaoError as exc:
            return exc
        amount: int = reply["amount_fen"]
        return amount


Scene = Callable[[Story], Awaitable[None]]


def _title(story: Story, chinese: str, english: str) -> None:
    local = (story.clock.now() + BEIJING).strftime("%b %d %H:%M")
    story.console.rule(f"[bold red]{chinese}[/] · {english} [dim]· {local} 北京时间[/]")


# ---------------------------------------------------------------------- scenes


async def family_joins(story: Story) -> None:
    _title(story, "一家人注册", "The family signs up")
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
    _title(story, "加好友、建群", "Friends and the family group")
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
    _title(story, "个人红包 · 压岁钱", "Grandma to Ming")
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
    _title(story, "群红包 · 普通红包", "Dad's equal packet")
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
    _title(story, "拼手气红包 · 同时抢", "Mum's lucky packet")
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
        table.add_row(str(seq), escape(claim["display_name"]), format_fen(claim["amount_fen"]), luck)
    story.console.print(table)
    best = next(c for c in detail["claims"] if c["best_luck"])
    story.say(
        f"  手气最佳: [bold yellow]{escape(best['display_name'])}[/] with {format_fen(best['amount_fen'])}; "
        f"shares sum to {format_fen(detail['claimed_fen'])}."
    )


async def line_cut_and_refusals(story: Story) -> None:
    _title(story, "拼手气红包 · 线段切割", "Uncle's lucky packet")
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
    _title(story, "幂等重试", "A retried send")
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
    _title(story, "过期退款", "Expiry refunds")
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
    _title(story, "账单", "Statements")
    table = Table("who", "topped up", "sent", "received", "refunded", "balance")
    for m in FAMILY:
        uid = story.ids[m.role]
        sums = {"top_up": 0, "sent": 0, "received": 0, "refunded": 0, "withdrawal": 0}
        cursor: int | None = None
        while True:
            page: dict[str, Any] = await story.app.wallet.statement(uid, cursor, 100)
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


async def followers_and_conversations(story: Story) -> None:
    _title(story, "关注明星 · 聊天", "Following a celebrity; the family chat")
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
    story.say(
        f"  The family group's chat holds every packet with its claim notices; the newest: "
        f"“{escape(family['last_message']['text'])}” ({family['unread_count']} unread for Ming)."
    )


async def relay_chain(story: Story) -> None:
    _title(story, "接龙红包", "Grandma starts a relay chain")
    app, family = story.app, ["grandma", "mum", "dad", "ming", "hong", "uncle"]
    chain = await app.relay.start(
        story.ids["grandma"], story.group_id, total_fen=600, shares_count=5, greeting="接龙！手气最佳发下一个",
        min_fen=200, deadline_s=3600,
    )
    story.say(
        f"  {story.name('grandma')} sends round 1: {format_fen(600)} in 5 lucky shares; the best-luck claimer "
        f"owes the next round (at least {format_fen(chain['min_fen'])}) within an hour."
    )
    sender = "grandma"
    for round_no in (1, 2):
        packet = chain["current_packet"]["id"]
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
        chain = await app.relay.next_round(chain["id"], story.ids[owing], total_fen=300, shares_count=5,
                                           greeting="第二棒")
        story.say(f"  {story.name(owing)} sends round 2: {format_fen(300)}")
        sender = owing
    story.clock.jump(1.5)
    ended = await app.relay.end_overdue_chains()
    story.say(f"  90 minutes later {story.name(owing)} has not sent round 3: the deadline pass ends {ended} chain.")
    chain = await app.relay.detail(chain["id"], story.ids["grandma"])
    table = Table("round", "sender", "amount", "手气最佳 best luck", title=f"接龙 #{chain['id']}: {chain['status']} "
                  f"({chain['ended_reason']})")
    for r in chain["rounds"]:
        best = story.names.get(r["best_luck_user_id"], "") if r["best_luck_user_id"] else ""
        table.add_row(str(r["round"]), escape(story.names[r["sender_id"]]), format_fen(r["total_fen"]), escape(best))
    story.console.print(table)


async def asks(story: Story) -> None:
    _title(story, "讨红包", "Asking for a packet")
    app = story.app
    ask = await app.asks.ask(story.ids["ming"], to_user_id=story.ids["uncle"], amount_fen=666, message="舅舅新年好！")
    story.say(f"  {story.name('ming')} asks {story.name('uncle')} for {format_fen(666)}: “{escape(ask['message'])}”")
    done = await app.asks.fulfil(ask["id"], story.ids["uncle"], greeting="拿去买书")
    got = await app.packets.open(done["packet"]["id"], story.ids["ming"])
    story.say(f"  {story.name('uncle')} fulfils it in one step; Ming opens the linked packet: "
              f"[bold green]{format_fen(got['amount_fen'])}[/]")
    await app.asks.update_settings(story.ids["grandma"], allow_asks=False)
    try:
        await app.asks.ask(story.ids["hong"], to_user_id=story.ids["grandma"])
    except HongbaoError as exc:
        story.refused(f"Grandma turned asking off; {story.name('hong')} asks her", exc)
    tries = await asyncio.gather(*(app.asks.ask(story.ids["hong"], to_user_id=story.ids["dad"]) for _ in range(12)),
                                 return_exceptions=True)
    ok = [t for t in tries if isinstance(t, dict)]
    refused = [t for t in tries if isinstance(t, HongbaoError)]
    story.say(f"  {story.name('hong')} asks Dad 12 times at once: {len(ok)} asks go through, {len(refused)} refused")
    if refused:
        story.refused("the 11th", refused[0])
    declined = await app.asks.decline(ok[0]["id"], story.ids["dad"])
    story.say(f"  Dad declines one (status {declined['status']}) and ignores the rest: they expire in 24 h.")


async def transfers(story: Story) -> None:
    _title(story, "转账", "Transfers between friends")
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
    _title(story, "面对面红包 · 饭桌上", "Uncle's face-to-face packet at dinner")
    app, kinds = story.app, story.app.open_kinds
    restaurant = (39.9087, 116.3975)
    sent = await kinds.send_face_to_face(
        story.ids["uncle"], how="double_mean", shares_count=3, total_fen=3_000, greeting="见面有份",
        lat=restaurant[0], lng=restaurant[1], radius_m=50,
    )
    story.say(
        f"  {story.name('uncle')} sends {format_fen(sent['total_fen'])} in 3 shares; only he sees the code "
        f"[bold]{sent['code']}[/] and reads it out (claimers must stand within 50 m)."
    )
    neighbour = await app.users.register("linju", PASSWORD, "邻居 Neighbour")
    story.names[neighbour] = "邻居 Neighbour"
    for uid in (story.ids["ming"], story.ids["hong"], neighbour):
        got = await kinds.open_by_code(uid, sent["code"], address="demo", lat=restaurant[0] + 0.0002,
                                       lng=restaurant[1])
        story.say(f"  {escape(story.names[uid])} types it: [bold green]{format_fen(got['amount_fen'])}[/]")
    story.say("  (the neighbour is nobody's friend: a code needs no friendship)")
    wrong = f"{(int(sent['code']) + 1) % 1_000_000:06d}"
    try:
        await kinds.open_by_code(story.ids["dad"], wrong, address="demo", lat=restaurant[0], lng=restaurant[1])
    except HongbaoError as exc:
        story.refused(f"{story.name('dad')} mistypes {wrong}", exc)


async def password_packet(story: Story) -> None:
    _title(story, "口令红包", "Mum's password packet")
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
    _title(story, "明星红包", "The star thanks the fans")
    app, kinds = story.app, story.app.open_kinds
    star = story.ids["star"]
    await app.wallet.top_up(star, 1_000_000)
    sent = await kinds.send_celebrity(star, how="double_mean", shares_count=1_000, total_fen=100_000,
                                      greeting="谢谢大家的支持")
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
    _title(story, "企业红包", "Tencent's campaign for its followers")
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
    _title(story, "春晚摇一摇", "The Gala: shake for sponsors' pools, nearby merchants")
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
    nearby = await camp.nearby(39.9087, 116.3975, 2_000)
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


SCENES: list[Scene] = [
    family_joins,
    friends_and_group,
    personal_packet,
    equal_group_packet,
    lucky_race,
    line_cut_and_refusals,
    idempotent_retry,
    expiry_refund,
    followers_and_conversations,
    relay_chain,
    asks,
    transfers,
    face_to_face,
    password_packet,
    celebrity_packet,
    enterprise_campaign,
    gala_shake,
    statements,
]


# ---------------------------------------------------------------------- running


def demo_settings(folder: Path) -> Settings:
    """A throwaway SQLite store in `folder`, cheap password hashing, no scheduler (the script expires)."""
    return Settings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'hongbao.db'}",  # explicit: never a HONGBAO_DATABASE_URL
        argon2_time_cost=1,
        argon2_memory_kib=8,
        scheduler=False,
        demo=False,
    )


async def _play(story: Story, scenes: list[Scene]) -> None:
    with progress_bar(story.console, "scenes", len(scenes)) as done:
        for i, scene in enumerate(scenes, 1):
            await scene(story)
            done(i)


def run_demo(console: Console, scenes: list[Scene] | None = None) -> bool:
    """Play the story on a temporary store; True when it ends with a clean reconcile."""
    console.print(
        Panel.fit(
            "[bold red]新春快乐 · 红包 demo[/]\nA family's Spring Festival, in-process on a temporary SQLite store",
            border_style="red",
        )
    )
    with tempfile.TemporaryDirectory(prefix="hongbao-demo-") as tmp:
        app = build(demo_settings(Path(tmp)), clock=(clock := DemoClock(EVE)))
        try:
            asyncio.run(_play(Story(app, console, clock), SCENES if scenes is None else scenes))
            report = reconcile(app.store)
        finally:
            app.close()
    console.rule("[bold]对账 · Reconcile[/]")
    console.print(
        f"accounts {report.accounts}, transfers {report.transfers}, packets {report.packets}, "
        f"claims {report.claims}; money inside the platform {format_fen(report.inside_fen)}"
    )
    if report.violations:
        for v in report.violations:
            console.print(f"[red]{escape(str(v))}[/]")
        console.print(f"[bold red]reconcile: {len(report.violations)} violation(s)[/]")
        return False
    console.print("[bold green]reconcile: clean[/]")
    return True
