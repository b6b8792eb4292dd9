"""The workload's packets: sending personal and group packets, grabbing and opening them alone, in bursts and as
twins, and retrying money requests with their Idempotency-Key; every reply is checked against the model."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from hongbao.domain.money import AMOUNT_FEN_MAX
from hongbao.sim.base import NO_SUCH_ID, Mismatch
from hongbao.sim.hostile import LOST
from hongbao.sim.model import Packet
from hongbao.sim.people import PeopleOps


class PacketOps(PeopleOps):
    def greeting(self) -> object:
        """None, a valid greeting, or (rarely) an invalid one."""
        r = self.rng.random()
        if r < 0.5:
            return None
        if r < 0.95:
            return self.rng.choice(["恭喜发财", "新年快乐 🧧", "", "  大吉大利  "])
        return self.rng.choice(["\x07ding", "福" * (self.rules.greeting_chars_max + 1), 88])

    def greeting_code(self, greeting: object) -> str | None:
        if greeting is None:
            return None
        if not isinstance(greeting, str) or "\x07" in greeting:
            return "invalid_greeting"
        return "invalid_greeting" if len(greeting.strip()) > self.rules.greeting_chars_max else None

    def new_packet_code(self, total: object, count: object) -> str | None:
        """PacketRules.check_new's refusal, in its order."""
        if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
            return "invalid_amount"
        if total > AMOUNT_FEN_MAX:
            return "amount_too_large"
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= self.rules.shares_count_max:
            return "invalid_share_count"
        if total > self.rules.packet_fen_max:
            return "amount_too_large"
        if total < count * self.rules.share_fen_min:
            return "share_too_small"
        return None

    def open_code(self, p: Packet | None, user: int) -> str | None:
        """The documented grab order: not found → expired → not eligible → already claimed → exhausted."""
        if p is None:
            return "packet_not_found"
        if p.refunded_fen is not None or self.clock.now() >= p.expires_at:
            return "packet_expired"
        if p.kind == "personal":
            if user != p.recipient:
                return "not_eligible"
        elif p.group is None or user not in self.m.groups[p.group].members:
            return "not_group_member"
        if user in p.claims:
            return "already_claimed"
        if len(p.claims) >= p.shares:
            return "packet_exhausted"
        return None

    # ------------------------------------------------------------------ sending

    def _budget(self, user: int) -> int:
        return max(1, min(self.m.balance[user], self.rules.packet_fen_max))

    async def op_send_personal(self) -> None:
        sender, r = self.user(), self.rng.random()
        friends = self.m.friends_of(sender)
        recipient = self.rng.choice(friends) if friends and r < 0.8 else self.user()
        amount: object = self.rng.randint(1, self._budget(sender))
        roll = self.rng.random()
        if roll < 0.03:
            recipient = NO_SUCH_ID
        elif roll < 0.06:
            amount = self.rng.choice([0, -1, "100", 1.5])
        elif roll < 0.09:
            amount = self.rules.packet_fen_max + 1
        elif roll < 0.14:
            amount = self.m.balance[sender] + 1
        params = {"kind": "personal", "recipient_id": recipient, "amount_fen": amount, "greeting": self.greeting()}
        key = self.key()
        self.note("send_personal", f"u={sender} {params} key={key}")
        reply, code = await self.money("send", sender, params, key)
        if code == LOST:
            return
        want = self.new_packet_code(amount, 1) or self.greeting_code(params["greeting"])
        if want is None:
            if recipient == sender:
                want = "not_friends"
            elif recipient == NO_SUCH_ID:
                want = "user_not_found"
            elif not self.m.are_friends(sender, recipient):
                want = "not_friends"
            elif isinstance(amount, int) and amount > self.m.balance[sender]:
                want = "insufficient_funds"
        self.expect(code, want, "send personal")
        if reply is not None:
            assert isinstance(amount, int)
            self._sent(reply, "personal", "equal", sender, None, recipient, amount, 1)
            self.remember("send", sender, key, params, reply)

    async def op_send_group(self) -> None:
        if not self.m.groups:
            await self.op_top_up()
            return
        gid, g = self._pick_group()
        sender = self.rng.choice(sorted(g.members)) if g and self.rng.random() < 0.92 else self.user()
        how = self.rng.choice(["equal", "double_mean", "line_cut"]) if self.rng.random() > 0.03 else "random"
        count: object = self.rng.randint(1, min(self.rules.shares_count_max, len(g.members) + 3 if g else 5))
        if self.rng.random() < 0.05:
            count = self.rng.choice([0, self.rules.shares_count_max + 1, True, "3"])
        n = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 3
        budget = self._budget(sender)
        total: object = None
        each: object = None
        roll = self.rng.random()
        if how == "equal":
            each = self.rng.randint(1, max(1, budget // n))
            if roll < 0.04:
                total = each * n  # an equal packet takes amount_each_fen only
            elif roll < 0.08:
                each = self.rules.packet_fen_max // n + 1
        else:
            total = self.rng.randint(n, max(n, budget))
            if roll < 0.06:
                total = max(1, n - 1)
            elif roll < 0.09:
                each = 1  # a lucky packet takes total_fen only
        params = {"kind": "group", "group_id": gid, "split": how, "shares_count": count, "total_fen": total,
                  "amount_each_fen": each, "greeting": self.greeting()}
        key = self.key()
        self.note("send_group", f"u={sender} {params} key={key}")
        reply, code = await self.money("send", sender, params, key)
        if code == LOST:
            return
        want, packet_total = self._group_send_code(how, count, total, each)
        if want is None:
            want = self.greeting_code(params["greeting"])
        if want is None:
            if g is None or sender not in g.members:
                want = "group_not_found"
            elif packet_total > self.m.balance[sender]:
                want = "insufficient_funds"
        self.expect(code, want, "send group")
        if reply is not None:
            assert isinstance(count, int)
            self._sent(reply, "group", how, sender, gid, None, packet_total, count)
            self.remember("send", sender, key, params, reply)

    def _group_send_code(self, how: str, count: object, total: object, each: object) -> tuple[str | None, int]:
        """The refusal of send_group's argument checks, in its order; else None and the packet's total."""
        if how not in ("equal", "double_mean", "line_cut"):
            return "invalid_split", 0
        if how == "equal":
            if total is not None:
                return "invalid_amount", 0
            code = self.new_packet_code(each, count)
            if code is not None:
                return code, 0
            assert isinstance(each, int) and isinstance(count, int)
            return self.new_packet_code(each * count, count), each * count
        if each is not None:
            return "invalid_amount", 0
        code = self.new_packet_code(total, count)
        return code, total if code is None and isinstance(total, int) else 0

    def _sent(self, reply: dict[str, Any], kind: str, how: str, sender: int, group: int | None,
              recipient: int | None, total: int, shares: int) -> None:
        pid = reply["id"]
        if pid in self.m.packets:
            raise Mismatch(f"send gave the existing packet id {pid}")
        expires_at = self.clock.now() + timedelta(seconds=self.rules.ttl_s)
        got = (reply["kind"], reply["split"], reply["sender_id"], reply["total_fen"], reply["shares_count"],
               reply["status"], reply["claimed_count"], datetime.fromisoformat(reply["expires_at"]))
        self.same(got, (kind, how, sender, total, shares, "active", 0, expires_at), "the sent packet")
        self.m.add_packet(Packet(pid, kind, how, sender, group, recipient, total, shares, expires_at))
        self.touched_packets.add(pid)
        self.m.balance[sender] -= total
        self.counts["packets"] += 1

    # ------------------------------------------------------------------ grab and open

    def _pick_packet(self) -> tuple[int, Packet | None]:
        now, r = self.clock.now(), self.rng.random()
        live = [p for p in self.m.active.values() if p.openable(now)]
        if live and r < 0.75:
            p = self.rng.choice(live)
        elif self.m.packets and r < 0.97:
            p = self.rng.choice(self.m.packet_list)
        else:
            return NO_SUCH_ID, None
        return p.id, p

    def _pick_opener(self, p: Packet | None) -> int:
        if p is not None and self.rng.random() < 0.65:
            if p.kind == "personal" and p.recipient is not None:
                return p.recipient
            if p.group is not None:
                hopeful = sorted(self.m.groups[p.group].members - set(p.claims))
                if hopeful:
                    return self.rng.choice(hopeful)
        return self.user()

    def _claimed(self, p: Packet, user: int, amount: Any, *, in_order: bool) -> None:
        """Check one share against the packet's split and credit it; `in_order`: it is the next share."""
        left, remaining = p.shares - len(p.claims), p.total_fen - p.claimed_fen
        if not isinstance(amount, int) or not 1 <= amount <= remaining - (left - 1):
            raise Mismatch(f"packet {p.id}: share of {amount!r} fen with {remaining} fen left for {left} shares")
        if p.split == "equal" and amount != p.total_fen // p.shares:
            raise Mismatch(f"equal packet {p.id}: share of {amount} fen, expected {p.total_fen // p.shares}")
        if in_order and left == 1 and amount != remaining:
            raise Mismatch(f"packet {p.id}: the last share is {amount} fen, {remaining} fen were left")
        if in_order and p.split == "double_mean" and left > 1 and amount > max(1, 2 * remaining // left - 1):
            raise Mismatch(f"double-mean packet {p.id}: share {amount} above twice the mean of {remaining}/{left}")
        p.claims[user] = amount
        self.m.settle(p)
        self.touched_packets.add(p.id)
        self.m.balance[user] += amount
        self.counts["claims"] += 1
        if len(p.claims) == p.shares and p.claimed_fen != p.total_fen:
            raise Mismatch(f"packet {p.id}: every share taken but {p.claimed_fen} of {p.total_fen} fen paid")

    async def op_grab(self) -> None:
        pid, p = self._pick_packet()
        user = self._pick_opener(p)
        await self._grab(pid, p, user)

    async def _grab(self, pid: int, p: Packet | None, user: int) -> None:
        self.note("grab", f"p={pid} u={user}")
        reply, code = await self.attempt(self.app.packets.grab(pid, user))
        self.expect(code, self.open_code(p, user), "grab")
        if reply is not None:
            self.same(reply, {"packet_id": pid, "can_open": True}, "grab reply")

    async def op_open(self) -> None:
        pid, p = self._pick_packet()
        user = self._pick_opener(p)
        key = self.key()
        self.note("open", f"p={pid} u={user} key={key}")
        want = self.open_code(p, user)
        reply, code = await self.money("open", user, {"packet_id": pid}, key)
        if code == LOST:
            return
        self.expect(code, want, "open")
        if reply is not None and p is not None:
            self.same(reply["packet_id"], pid, "opened packet")
            self._claimed(p, user, reply["amount_fen"], in_order=True)
            self.remember("open", user, key, {"packet_id": pid}, reply)

    async def op_burst(self) -> None:
        """Many opens at once (one group commit), with users racing themselves and non-members mixed in."""
        now = self.clock.now()
        live = [p for p in self.m.active.values() if p.openable(now)]
        if not live:
            await self.op_open()
            return
        p = self.rng.choice(live)
        # A grab first loads the packet and its group into the gate, so every open below passes the
        # gate without waiting and reaches the writer in the order it was issued: the run replays.
        await self._grab(p.id, p, p.sender)
        if p.group is not None:
            members = sorted(self.m.groups[p.group].members)
            hopeful = [u for u in members if u not in p.claims]
            users = self.rng.sample(hopeful, min(len(hopeful), self.rng.randint(2, 12)))
            users += [self.rng.choice(members) for _ in range(self.rng.randint(1, 3))]  # some race themselves
        else:
            assert p.recipient is not None
            users = [p.recipient] * self.rng.randint(2, 4) + [p.sender]
        users += [self.user() for _ in range(self.rng.randint(0, 2))]
        self.rng.shuffle(users)
        self.note("burst", f"p={p.id} users={users}")
        want = {u: self.open_code(p, u) for u in users}
        results = await asyncio.gather(*(self.attempt(self.app.packets.open(p.id, u)) for u in users))
        eligible = list(dict.fromkeys(u for u in users if want[u] is None))
        winners: list[int] = []
        for u, (reply, code) in zip(users, results, strict=True):
            if want[u] is not None:
                self.expect(code, want[u], f"burst open by user {u}")
            elif reply is None:
                if code not in ("already_claimed", "packet_exhausted"):
                    raise Mismatch(f"burst open by user {u}: refused with {code}")
            elif u in winners:
                raise Mismatch(f"burst: user {u} opened packet {p.id} twice")
            else:
                winners.append(u)
                self._claimed(p, u, reply["amount_fen"], in_order=False)
        expected = min(p.shares - (len(p.claims) - len(winners)), len(eligible))
        self.same(len(winners), expected, f"burst on packet {p.id}: number of winners")
        self.counts["bursts"] += 1

    # ------------------------------------------------------------------ retries

    async def op_retry(self) -> None:
        if not self.m.requests or self.rng.random() < 0.2:
            await self._twins()
            return
        req = self.rng.choice(self.m.requests)
        if self.rng.random() < 0.7:
            self.note("retry", f"{req.what} u={req.user} key={req.key} same body")
            reply, code = await self.attempt(self.request(req.what, req.user, req.params, req.key))
            self.expect(code, self.retry_refusal(req), f"retried {req.what}")
            if code is None:
                self.same(reply, req.reply, f"retried {req.what}: the first answer")
                self.counts["retries"] += 1
            return
        other = self.other_body(req)
        self.note("retry", f"{req.what} u={req.user} key={req.key} other body {self.shown(other)}")
        _, code = await self.attempt(self.request(req.what, req.user, other, req.key))
        self.expect(code, self.retry_refusal(req) or "idempotency_key_reused", f"{req.what} with a reused key")

    async def _twins(self) -> None:
        """The same request twice at once, as from a client whose retry races its first try."""
        user, key = self.user(), f"sim-{self.rng.getrandbits(48):012x}"
        live = [p for p in self.m.active.values() if p.openable(self.clock.now())]
        what = self.rng.choice(["top-up", "withdraw", "open"] if live else ["top-up", "withdraw"])
        packet: Packet | None = None
        if what == "open":
            packet = self.rng.choice(live)
            user = self._pick_opener(packet)
            params: dict[str, Any] = {"packet_id": packet.id}
            want = self.open_code(packet, user)
        elif what == "top-up":
            params, want = {"amount_fen": self.rng.randint(1, 50_000)}, None
        else:
            params = {"amount_fen": self.rng.randint(1, max(1, self.m.balance[user]))}
            want = None if params["amount_fen"] <= self.m.balance[user] else "insufficient_funds"
        self.note("twins", f"{what} u={user} {params} key={key}")
        (first, c1), (second, c2) = await asyncio.gather(
            self.attempt(self.request(what, user, params, key)), self.attempt(self.request(what, user, params, key))
        )
        if want is not None:
            self.same((c1, c2), (want, want), f"twin {what}s")
            return
        if what == "open" and {c1, c2} == {None, "already_claimed"}:
            reply = first or second  # the gate held the place of the first; the other saw it taken
        else:
            self.same((c1, c2), (None, None), f"twin {what}s")
            self.same(second, first, f"twin {what}s: one answer")
            reply = first
        assert reply is not None
        amount = params["packet_id"] if what == "open" else params["amount_fen"]
        if packet is not None:
            self._claimed(packet, user, reply["amount_fen"], in_order=True)
        elif what == "top-up":
            self.m.balance[user] += amount
            self.m.inside_fen += amount
            self.charged_fen += amount
        else:
            self.m.balance[user] -= amount
            self.m.inside_fen -= amount
            self.paid_out_fen += amount
        self.remember(what, user, key, params, reply)
        self.counts["twins"] += 1

