"""The seeded simulator behind `hongbao simulate`: a random workload checked step by step by an auditor."""

from __future__ import annotations

import asyncio
import random
import tempfile
import traceback
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select, text

from hongbao.adapters.channel import SandboxChannel
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.tx import SqlTx
from hongbao.bootstrap import App, build
from hongbao.config import Settings
from hongbao.domain.errors import HongbaoError
from hongbao.domain.money import AMOUNT_FEN_MAX
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.reconcile import reconcile

__all__ = ["SimClock", "SimResult", "run_simulation"]

T = TypeVar("T")

PASSWORD = "sim-password"
START = datetime(2026, 2, 16, 20, 0, tzinfo=UTC)  # New Year's Eve, the busiest evening of the year
PACKET_TTL_S = 3600  # shorter than the product's 24 h, so that many packets expire during a run
AUDIT_EVERY_STEP_UNTIL = 200
AUDIT_EVERY = 10
NO_SUCH_ID = 10**9
EXPIRE_ROUNDS_MAX = 1_000

# How often each kind of operation is drawn.
WEIGHTS = {
    "register": 5, "session": 3, "top_up": 9, "withdraw": 4, "friend": 6, "group": 7,
    "send_personal": 8, "send_group": 12, "grab": 5, "open": 14, "burst": 6, "retry": 7,
    "clock": 5, "expire": 3, "crash": 1,
}


class SimClock:
    """A frozen clock: it moves only when the workload advances it."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: int) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class SimResult:
    ok: bool
    seed: int
    ops: int
    failures: list[str]
    stats: dict[str, int]
    log: list[str] = field(default_factory=list)  # one line per operation; the same seed gives the same log


class _Mismatch(Exception):
    """Raised when the system under test disagrees with the auditor's model."""


# ---------------------------------------------------------------------- the auditor's model


@dataclass
class _Packet:
    id: int
    kind: str  # "personal" or "group"
    split: str
    sender: int
    group: int | None
    recipient: int | None
    total_fen: int
    shares: int
    expires_at: datetime
    claims: dict[int, int] = field(default_factory=dict)  # claimer → amount, in claim order
    refunded_fen: int | None = None  # set when expire_due refunded the packet

    @property
    def claimed_fen(self) -> int:
        return sum(self.claims.values())

    def status(self) -> str:
        """The status the store must show."""
        if self.refunded_fen is not None:
            return "expired"
        return "finished" if len(self.claims) >= self.shares else "active"

    def openable(self, now: datetime) -> bool:
        return self.status() == "active" and now < self.expires_at


@dataclass
class _Group:
    owner: int
    members: set[int]


@dataclass(frozen=True)
class _Request:
    """A money request that succeeded with an Idempotency-Key: retries must get `reply` and do nothing."""

    what: str  # "top-up", "withdraw", "send" or "open"
    user: int
    key: str
    params: dict[str, Any]
    reply: dict[str, Any]


@dataclass
class _Token:
    token: str
    user: int
    expires_at: datetime
    revoked: bool = False


@dataclass
class _Model:
    """What the auditor expects the store to hold, built only from the answers the services gave."""

    users: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    balance: dict[int, int] = field(default_factory=dict)
    inside_fen: int = 0  # top-ups − withdrawals
    pending: set[tuple[int, int]] = field(default_factory=set)  # (requester, addressee)
    friends: set[frozenset[int]] = field(default_factory=set)
    groups: dict[int, _Group] = field(default_factory=dict)
    packets: dict[int, _Packet] = field(default_factory=dict)
    requests: list[_Request] = field(default_factory=list)
    tokens: list[_Token] = field(default_factory=list)

    def are_friends(self, a: int, b: int) -> bool:
        return frozenset((a, b)) in self.friends

    def friends_of(self, user: int) -> list[int]:
        return sorted(u for u in self.users if u != user and self.are_friends(user, u))


# ---------------------------------------------------------------------- the workload


class _Sim:
    def __init__(self, seed: int, settings: Settings, inject_fault_at: int | None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        # The packets' split draws come from their own seeded stream, kept across crashes.
        self.split_rng = random.Random(self.rng.getrandbits(64))
        self.clock = SimClock()
        self.settings = settings
        self.inject_fault_at = inject_fault_at
        self.m = _Model()
        self.app = self._build()
        self.rules = self.app.deps.rules
        self.log: list[str] = []  # "step operation", a burst's warm-up grab shares its step
        self.step_no = 0
        self.op = ""
        self.kinds: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.charged_fen = 0  # by the payment channel of the current App (it starts at 0 after a crash)
        self.paid_out_fen = 0
        self.next_name = 0
        self.login_failures: Counter[str] = Counter()

    def _build(self) -> App:
        return build(self.settings, clock=self.clock, rng=self.split_rng)

    def close(self) -> None:
        self.app.close()

    # ------------------------------------------------------------------ helpers

    def note(self, kind: str, detail: str) -> None:
        self.op = f"{kind} {detail}".strip()
        self.log.append(f"{self.step_no:05d} {self.op}")

    async def attempt(self, call: Awaitable[T]) -> tuple[T | None, str | None]:
        """The reply, or the refusal's code."""
        try:
            return await call, None
        except HongbaoError as exc:
            self.counts[f"refused:{exc.code}"] += 1
            return None, exc.code

    @staticmethod
    def expect(got: str | None, want: str | None, what: str) -> None:
        if got != want:
            raise _Mismatch(f"{what}: expected {want or 'success'}, got {got or 'success'}")

    @staticmethod
    def same(got: object, want: object, what: str) -> None:
        if got != want:
            raise _Mismatch(f"{what}: expected {want!r}, got {got!r}")

    def user(self) -> int:
        return self.rng.choice(self.m.users)

    def key(self) -> str | None:
        return f"sim-{self.rng.getrandbits(48):012x}" if self.rng.random() < 0.4 else None

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

    def open_code(self, p: _Packet | None, user: int) -> str | None:
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

    async def request(self, what: str, user: int, params: dict[str, Any], key: str | None) -> dict[str, Any]:
        """One money request, shaped as the HTTP API shapes it (the same body gives the same fingerprint)."""
        a = self.app
        if what == "open":
            idem = IdempotencyKey.of(user, key, "open", params["packet_id"])
            return await a.packets.open(params["packet_id"], user, idem)
        idem = IdempotencyKey.of(user, key, what, params)
        if what == "top-up":
            return await a.wallet.top_up(user, params["amount_fen"], idem)
        if what == "withdraw":
            return await a.wallet.withdraw(user, params["amount_fen"], idem)
        if params["kind"] == "personal":
            return await a.packets.send_personal(
                user, params["recipient_id"], params["amount_fen"], params["greeting"], idem
            )
        return await a.packets.send_group(
            user, params["group_id"], how=params["split"], shares_count=params["shares_count"],
            total_fen=params["total_fen"], amount_each_fen=params["amount_each_fen"],
            greeting=params["greeting"], idem=idem,
        )

    def remember(self, what: str, user: int, key: str | None, params: dict[str, Any], reply: Any) -> None:
        if key is not None and reply is not None:
            self.m.requests.append(_Request(what, user, key, params, reply))

    # ------------------------------------------------------------------ the step loop

    def choose(self) -> str:
        if len(self.m.users) < 3:
            return "register"
        kinds = list(WEIGHTS)
        # Past a dozen users, new users come rarely and friendships come often until each user has
        # about four friends, so that groups grow large enough for real races.
        boost = {"register": 1 if len(self.m.users) >= 12 else WEIGHTS["register"],
                 "friend": 25 if len(self.m.friends) < 2 * len(self.m.users) else WEIGHTS["friend"]}
        weights = [boost.get(k, WEIGHTS[k]) for k in kinds]
        return self.rng.choices(kinds, weights=weights)[0]

    async def step(self, kind: str) -> None:
        self.kinds[kind] += 1
        await getattr(self, f"op_{kind}")()

    # ------------------------------------------------------------------ users and sessions

    async def op_register(self) -> None:
        r = self.rng.random()
        name, password, want = f"sim{self.next_name}", PASSWORD, None
        if r < 0.05:
            name, want = self.rng.choice(["x", "Bad Name!", "a" * 33]), "invalid_username"
        elif r < 0.09:
            password, want = "short", "weak_password"
        elif r < 0.14 and self.m.names:
            name, want = self.rng.choice(self.m.names), "username_taken"
        else:
            self.next_name += 1
        self.note("register", f"name={name!r} password_chars={len(password)}")
        uid, code = await self.attempt(self.app.users.register(name, password))
        self.expect(code, want, "register")
        if uid is not None:
            if uid in self.m.balance:
                raise _Mismatch(f"register gave the existing user id {uid}")
            self.m.users.append(uid)
            self.m.names.append(name)
            self.m.balance[uid] = 0

    async def op_session(self) -> None:
        r, now = self.rng.random(), self.clock.now()
        if r < 0.4 or not self.m.tokens:
            user = self.user()
            name = self.m.names[self.m.users.index(user)]
            wrong = self.rng.random() < 0.3
            self.note("login", f"u={user} wrong_password={wrong}")
            session, code = await self.attempt(self.app.users.login(name, "wrong-password" if wrong else PASSWORD))
            # The login limiter counts failures per name in this process (a crash forgets them).
            locked = self.login_failures[name] >= self.app.users.login_limiter.failures_max
            self.expect(code, "too_many_attempts" if locked else "bad_credentials" if wrong else None, "login")
            if code == "bad_credentials":
                self.login_failures[name] += 1
            if session is not None:
                self.login_failures[name] = 0
                self.same(session.user_id, user, "login user")
                self.same(session.expires_at, now + timedelta(seconds=self.settings.token_ttl_s), "token expiry")
                self.m.tokens.append(_Token(session.token, user, session.expires_at))
            return
        i = self.rng.randrange(len(self.m.tokens))
        t = self.m.tokens[i]
        if r < 0.85:
            self.note("authenticate", f"token#{i}")
            uid, code = await self.attempt(self.app.users.authenticate(t.token))
            valid = not t.revoked and now < t.expires_at
            self.expect(code, None if valid else "token_invalid", "authenticate")
            if uid is not None:
                self.same(uid, t.user, "token's user")
        else:
            self.note("logout", f"token#{i}")
            await self.app.users.logout(t.token)
            t.revoked = True

    # ------------------------------------------------------------------ wallet

    async def op_top_up(self) -> None:
        user, r = self.user(), self.rng.random()
        amount: object = self.rng.randint(1, 50_000)
        want: str | None = None
        if r < 0.08:
            amount, want = self.rng.choice([0, -5, 12.5, "100", True]), "invalid_amount"
        elif r < 0.12:
            amount, want = self.settings.topup_fen_max + self.rng.randint(1, 1_000), "amount_too_large"
        key = self.key()
        params = {"amount_fen": amount}
        self.note("top_up", f"u={user} amount={amount!r} key={key}")
        reply, code = await self.attempt(self.request("top-up", user, params, key))
        self.expect(code, want, "top-up")
        if reply is not None:
            assert isinstance(amount, int)
            self.m.balance[user] += amount
            self.m.inside_fen += amount
            self.charged_fen += amount
            self.same(reply["amount_fen"], amount, "top-up amount")
            self.same(reply["balance_fen"], self.m.balance[user], "balance after top-up")
            self.remember("top-up", user, key, params, reply)

    async def op_withdraw(self) -> None:
        user, r = self.user(), self.rng.random()
        balance = self.m.balance[user]
        if r < 0.08:
            amount, want = 0, "invalid_amount"
        elif r < 0.25 or balance == 0:
            amount, want = balance + self.rng.randint(1, 1_000), "insufficient_funds"
        else:
            amount, want = self.rng.randint(1, balance), None
        key = self.key()
        params = {"amount_fen": amount}
        self.note("withdraw", f"u={user} amount={amount} key={key}")
        reply, code = await self.attempt(self.request("withdraw", user, params, key))
        self.expect(code, want, "withdraw")
        if reply is not None:
            self.m.balance[user] -= amount
            self.m.inside_fen -= amount
            self.paid_out_fen += amount
            self.same(reply["balance_fen"], self.m.balance[user], "balance after withdrawal")
            self.remember("withdraw", user, key, params, reply)

    # ------------------------------------------------------------------ friends and groups

    async def op_friend(self) -> None:
        r = self.rng.random()
        if self.m.pending and r < 0.45:
            requester, addressee = self.rng.choice(sorted(self.m.pending))
            self.note("accept_friend", f"u={addressee} from={requester}")
            reply, code = await self.attempt(self.app.social.accept_friend(addressee, requester))
            self.expect(code, None, "accept friend")
            self.m.pending.discard((requester, addressee))
            self.m.friends.add(frozenset((requester, addressee)))
            return
        a, b = self.user(), self.user()
        if r < 0.50:
            self.note("accept_friend", f"u={a} from={b}")
            _, code = await self.attempt(self.app.social.accept_friend(a, b))
            self.expect(code, None if (b, a) in self.m.pending else "friend_request_not_found", "accept friend")
            if (b, a) in self.m.pending:
                self.m.pending.discard((b, a))
                self.m.friends.add(frozenset((a, b)))
            return
        if r < 0.53:
            b = NO_SUCH_ID
        self.note("request_friend", f"u={a} other={b}")
        reply, code = await self.attempt(self.app.social.request_friend(a, b))
        if a == b:
            self.expect(code, "cannot_befriend_self", "befriend")
        elif b == NO_SUCH_ID:
            self.expect(code, "user_not_found", "befriend")
        elif self.m.are_friends(a, b):
            self.expect(code, "already_friends", "befriend")
        elif (b, a) in self.m.pending:
            self.expect(code, None, "befriend")
            self.same(reply and reply["status"], "accepted", "a request both ways")
            self.m.pending.discard((b, a))
            self.m.friends.add(frozenset((a, b)))
        elif (a, b) in self.m.pending:
            self.expect(code, "already_requested", "befriend")
        else:
            self.expect(code, None, "befriend")
            self.same(reply and reply["status"], "pending", "a new request")
            self.m.pending.add((a, b))

    async def op_group(self) -> None:
        r = self.rng.random()
        if len(self.m.groups) < 2 or r < 0.2:
            await self._create_group()
        elif r < 0.8:
            await self._add_member()
        else:
            await self._remove_member()

    async def _create_group(self) -> None:
        owner = self.user()
        friends = self.m.friends_of(owner)
        members = self.rng.sample(friends, self.rng.randint(0, min(10, len(friends))))
        strangers = [u for u in self.m.users if u != owner and not self.m.are_friends(owner, u)]
        if strangers and self.rng.random() < 0.12:
            members.append(self.rng.choice(strangers))
        name = "   " if self.rng.random() < 0.05 else f"群{len(self.m.groups)}"
        self.note("create_group", f"owner={owner} members={sorted(members)} name={name!r}")
        reply, code = await self.attempt(self.app.social.create_group(owner, name, members))
        want = None
        if not name.strip():
            want = "invalid_group_name"
        elif any(not self.m.are_friends(owner, u) for u in members):
            want = "not_friends"
        self.expect(code, want, "create group")
        if reply is not None:
            gid = reply["id"]
            if gid in self.m.groups:
                raise _Mismatch(f"create group gave the existing group id {gid}")
            self.m.groups[gid] = _Group(owner, {owner, *members})
            self.same(sorted(m["id"] for m in reply["members"]), sorted(self.m.groups[gid].members), "members")

    def _pick_group(self) -> tuple[int, _Group | None]:
        if self.rng.random() < 0.03:
            return NO_SUCH_ID, None
        gid = self.rng.choice(sorted(self.m.groups))
        return gid, self.m.groups[gid]

    async def _add_member(self) -> None:
        gid, g = self._pick_group()
        actor = self.rng.choice(sorted(g.members)) if g and self.rng.random() < 0.9 else self.user()
        candidates = [u for u in self.m.friends_of(actor) if g and u not in g.members]
        user = self.rng.choice(candidates) if candidates and self.rng.random() < 0.7 else self.user()
        self.note("add_member", f"g={gid} actor={actor} u={user}")
        _, code = await self.attempt(self.app.social.add_member(actor, gid, user))
        want = None
        if g is None or actor not in g.members:
            want = "group_not_found"
        elif not self.m.are_friends(actor, user):
            want = "not_friends"
        elif user in g.members:
            want = "already_member"
        self.expect(code, want, "add member")
        if g is not None and code is None:
            g.members.add(user)

    async def _remove_member(self) -> None:
        gid, g = self._pick_group()
        members = sorted(g.members) if g else []
        r = self.rng.random()
        actor = self.rng.choice(members) if members and r < 0.95 else self.user()
        if g is not None and r < 0.5:
            user = actor  # leave
        elif g is not None and r < 0.8:
            actor, user = g.owner, self.rng.choice(members)
        else:
            user = self.user()
        self.note("remove_member", f"g={gid} actor={actor} u={user}")
        _, code = await self.attempt(self.app.social.remove_member(actor, gid, user))
        want = None
        if g is None or actor not in g.members:
            want = "group_not_found"
        elif actor != user and actor != g.owner:
            want = "not_group_owner"
        elif user == g.owner:
            want = "owner_cannot_leave"
        elif user not in g.members:
            want = "member_not_found"
        self.expect(code, want, "remove member")
        if g is not None and code is None:
            g.members.discard(user)

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
        reply, code = await self.attempt(self.request("send", sender, params, key))
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
        reply, code = await self.attempt(self.request("send", sender, params, key))
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
            raise _Mismatch(f"send gave the existing packet id {pid}")
        expires_at = self.clock.now() + timedelta(seconds=self.rules.ttl_s)
        got = (reply["kind"], reply["split"], reply["sender_id"], reply["total_fen"], reply["shares_count"],
               reply["status"], reply["claimed_count"], datetime.fromisoformat(reply["expires_at"]))
        self.same(got, (kind, how, sender, total, shares, "active", 0, expires_at), "the sent packet")
        self.m.packets[pid] = _Packet(pid, kind, how, sender, group, recipient, total, shares, expires_at)
        self.m.balance[sender] -= total
        self.counts["packets"] += 1

    # ------------------------------------------------------------------ grab and open

    def _pick_packet(self) -> tuple[int, _Packet | None]:
        now, r = self.clock.now(), self.rng.random()
        live = [p for p in self.m.packets.values() if p.openable(now)]
        if live and r < 0.75:
            p = self.rng.choice(live)
        elif self.m.packets and r < 0.97:
            p = self.rng.choice(list(self.m.packets.values()))
        else:
            return NO_SUCH_ID, None
        return p.id, p

    def _pick_opener(self, p: _Packet | None) -> int:
        if p is not None and self.rng.random() < 0.65:
            if p.kind == "personal" and p.recipient is not None:
                return p.recipient
            if p.group is not None:
                hopeful = sorted(self.m.groups[p.group].members - set(p.claims))
                if hopeful:
                    return self.rng.choice(hopeful)
        return self.user()

    def _claimed(self, p: _Packet, user: int, amount: Any, *, in_order: bool) -> None:
        """Check one share against the packet's split and credit it; `in_order`: it is the next share."""
        left, remaining = p.shares - len(p.claims), p.total_fen - p.claimed_fen
        if not isinstance(amount, int) or not 1 <= amount <= remaining - (left - 1):
            raise _Mismatch(f"packet {p.id}: share of {amount!r} fen with {remaining} fen left for {left} shares")
        if p.split == "equal" and amount != p.total_fen // p.shares:
            raise _Mismatch(f"equal packet {p.id}: share of {amount} fen, expected {p.total_fen // p.shares}")
        if in_order and left == 1 and amount != remaining:
            raise _Mismatch(f"packet {p.id}: the last share is {amount} fen, {remaining} fen were left")
        if in_order and p.split == "double_mean" and left > 1 and amount > max(1, 2 * remaining // left - 1):
            raise _Mismatch(f"double-mean packet {p.id}: share {amount} above twice the mean of {remaining}/{left}")
        p.claims[user] = amount
        self.m.balance[user] += amount
        self.counts["claims"] += 1
        if len(p.claims) == p.shares and p.claimed_fen != p.total_fen:
            raise _Mismatch(f"packet {p.id}: every share taken but {p.claimed_fen} of {p.total_fen} fen paid")

    async def op_grab(self) -> None:
        pid, p = self._pick_packet()
        user = self._pick_opener(p)
        await self._grab(pid, p, user)

    async def _grab(self, pid: int, p: _Packet | None, user: int) -> None:
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
        reply, code = await self.attempt(self.request("open", user, {"packet_id": pid}, key))
        self.expect(code, want, "open")
        if reply is not None and p is not None:
            self.same(reply["packet_id"], pid, "opened packet")
            self._claimed(p, user, reply["amount_fen"], in_order=True)
            self.remember("open", user, key, {"packet_id": pid}, reply)

    async def op_burst(self) -> None:
        """Many opens at once (one group commit), with users racing themselves and non-members mixed in."""
        now = self.clock.now()
        live = [p for p in self.m.packets.values() if p.openable(now)]
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
                    raise _Mismatch(f"burst open by user {u}: refused with {code}")
            elif u in winners:
                raise _Mismatch(f"burst: user {u} opened packet {p.id} twice")
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
            self.expect(code, None, f"retried {req.what}")
            self.same(reply, req.reply, f"retried {req.what}: the first answer")
            self.counts["retries"] += 1
            return
        other = dict(req.params)
        if req.what == "open":
            other["packet_id"] = req.params["packet_id"] + self.rng.randint(1, 3)
        elif req.what == "send":
            other["greeting"] = f"{req.params['greeting'] or ''}再来一个"[: self.rules.greeting_chars_max]
        else:
            other["amount_fen"] = req.params["amount_fen"] + 1
        self.note("retry", f"{req.what} u={req.user} key={req.key} other body {other}")
        _, code = await self.attempt(self.request(req.what, req.user, other, req.key))
        self.expect(code, "idempotency_key_reused", f"{req.what} with a reused key")

    async def _twins(self) -> None:
        """The same request twice at once, as from a client whose retry races its first try."""
        user, key = self.user(), f"sim-{self.rng.getrandbits(48):012x}"
        live = [p for p in self.m.packets.values() if p.openable(self.clock.now())]
        what = self.rng.choice(["top-up", "withdraw", "open"] if live else ["top-up", "withdraw"])
        packet: _Packet | None = None
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

    # ------------------------------------------------------------------ time, expiry, crashes

    async def op_clock(self) -> None:
        now, r = self.clock.now(), self.rng.random()
        ahead = sorted({p.expires_at for p in self.m.packets.values() if p.status() == "active" and p.expires_at > now})
        if ahead and r < 0.08:
            # Land exactly on (or one second before) an expiry: the boundary where open and expire race.
            at = self.rng.choice(ahead) - timedelta(seconds=self.rng.choice([0, 1]))
            seconds = max(0, int((at - now).total_seconds()))
        elif r < 0.15:
            seconds = self.rng.randint(self.rules.ttl_s // 2, 3 * self.rules.ttl_s)
        else:
            seconds = self.rng.randint(1, 300)
        self.note("clock", f"+{seconds}s")
        self.clock.advance(seconds)

    async def op_expire(self) -> None:
        now = self.clock.now()
        due = [p for p in self.m.packets.values() if p.status() == "active" and p.expires_at <= now]
        self.note("expire_due", f"at={now.isoformat()}")
        expired = 0
        for _ in range(EXPIRE_ROUNDS_MAX):
            n = await self.app.packets.expire_due()
            expired += n
            if n == 0:
                break
        self.same(expired, len(due), "packets expired")
        for p in due:
            p.refunded_fen = p.total_fen - p.claimed_fen
            self.m.balance[p.sender] += p.refunded_fen
            self.counts["refunds"] += 1
            self.counts["refunded_fen"] += p.refunded_fen

    async def op_crash(self) -> None:
        """Stop the process and start another on the same database: the gate and token caches are lost."""
        self.note("crash", "")
        self.app.close()
        self.app = self._build()
        self.charged_fen = self.paid_out_fen = 0
        self.login_failures.clear()
        self.counts["crashes"] += 1

    # ------------------------------------------------------------------ the auditor

    def audit(self) -> None:
        self.counts["audits"] += 1
        report = reconcile(self.app.store)
        if report.violations:
            shown = "; ".join(map(str, report.violations[:5]))
            raise _Mismatch(f"reconcile found {len(report.violations)} violation(s): {shown}")
        self.same(report.inside_fen, self.m.inside_fen, "money inside the platform")
        wallets, packets = self.app.store.read_sync(_snapshot, snapshot=True)
        if wallets != self.m.balance:
            wrong = {u: (wallets.get(u), b) for u, b in self.m.balance.items() if wallets.get(u) != b}
            raise _Mismatch(f"wallet balances (stored, expected) differ: {dict(list(wrong.items())[:5])}")
        expected = {p.id: (p.status(), len(p.claims), p.claimed_fen, p.refunded_fen or 0)
                    for p in self.m.packets.values()}
        if packets != expected:
            wrong_p = {i: (packets.get(i), e) for i, e in expected.items() if packets.get(i) != e}
            raise _Mismatch(f"packets (stored, expected) differ: {dict(list(wrong_p.items())[:5])}")
        channel = self.app.deps.channel
        if isinstance(channel, SandboxChannel):
            self.same((channel.charged_fen, channel.paid_out_fen), (self.charged_fen, self.paid_out_fen),
                      "money moved through the payment channel (charged, paid out)")

    def inject_fault(self) -> None:
        """Test hook: move a cached balance without a transfer, as a buggy statement would."""
        self.log.append(f"{self.step_no:05d} fault: unbalanced cached-balance update")
        where, params = "id = 1", {}  # the world account, if nobody has registered yet
        if self.m.users:
            where, params = "kind = 'wallet' AND owner_id = :uid", {"uid": self.m.users[0]}

        def corrupt(tx: SqlTx) -> None:
            tx.conn.execute(text(f"UPDATE accounts SET balance_fen = balance_fen + 1 WHERE {where}"), params)

        self.app.store.write_sync(corrupt)

    def stats(self) -> dict[str, int]:
        out = {f"op:{k}": n for k, n in sorted(self.kinds.items())}
        out.update(self.counts)
        out["users"] = len(self.m.users)
        out["inside_fen"] = self.m.inside_fen
        return out


def _snapshot(tx: SqlTx) -> tuple[dict[int, int], dict[int, tuple[str, int, int, int]]]:
    a, p = s.accounts, s.packets
    wallets = {
        int(r.owner_id): int(r.balance_fen)
        for r in tx.conn.execute(select(a.c.owner_id, a.c.balance_fen).where(a.c.kind == "wallet"))
    }
    packets = {
        int(r.id): (str(r.status), int(r.claimed_count), int(r.claimed_fen), int(r.refunded_fen))
        for r in tx.conn.execute(select(p.c.id, p.c.status, p.c.claimed_count, p.c.claimed_fen, p.c.refunded_fen))
    }
    return wallets, packets


def _is_empty(tx: SqlTx) -> bool:
    return all(
        tx.conn.execute(select(func.count()).select_from(t)).scalar_one() == 0
        for t in (s.users, s.packets, s.transfers)
    )


# ---------------------------------------------------------------------- entry point


def run_simulation(
    *,
    seed: int,
    ops: int,
    database_url: str | None,
    console: Console | None,
    inject_fault_at: int | None = None,
) -> SimResult:
    """Run `ops` seeded operations against a real App and audit the store against the model; report.

    The store is a SQLite file in a temporary folder, or `database_url`, which must point at a fresh,
    empty database (the model starts empty: a database with users, packets or transfers is refused).
    The App is wired by `bootstrap.build` with a frozen `SimClock` (it moves only when the workload
    advances it), a seeded split generator, cheap argon2 and no scheduler.  The workload draws every
    choice from `random.Random(seed)`, so the same seed replays the same operations (`SimResult.log`)
    with the same outcomes; the one race left open is which of two twin opens (same user, same key,
    at once) the gate refuses, which changes no balance.  A "crash" closes the App and builds a new
    one on the same database: the gate, token and login-limiter memories are lost, the ledger stays.

    The auditor checks `reconcile(store).violations == []`, every wallet and packet against the model,
    and the payment channel's totals: after every step for the first 200 steps, then every 10 steps
    and at the end (and at an injected fault).  The first failure stops the run; it names the seed,
    the step and the operation.  `inject_fault_at` (tests only) corrupts a cached balance at that step.
    """
    out = console or Console(quiet=True)
    with tempfile.TemporaryDirectory(prefix="hongbao-sim-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'sim.db'}"
        settings = Settings(
            database_url=url, data_dir=Path(tmp), demo=False, scheduler=False, packet_ttl_s=PACKET_TTL_S,
            argon2_time_cost=1, argon2_memory_kib=8, argon2_parallelism=1,
        )
        sim = _Sim(seed, settings, inject_fault_at)
        try:
            if not sim.app.store.read_sync(_is_empty):
                failure = (f"seed={seed}: the database at {url.split('@')[-1]} is not empty; "
                           "the simulator needs a fresh database")
                out.print(f"[red]{escape(failure)}[/]")
                return SimResult(False, seed, ops, [failure], {}, [])
            failures = asyncio.run(_drive(sim, ops))
        finally:
            sim.close()
    result = SimResult(not failures, seed, ops, failures, sim.stats(), sim.log)
    _report(out, result)
    return result


async def _drive(sim: _Sim, ops: int) -> list[str]:
    for step in range(1, ops + 1):
        sim.op, sim.step_no = "", step
        try:
            await sim.step(sim.choose())
            if step == sim.inject_fault_at:
                sim.inject_fault()
            if step <= AUDIT_EVERY_STEP_UNTIL or step % AUDIT_EVERY == 0 or step in (ops, sim.inject_fault_at):
                sim.audit()
        except _Mismatch as exc:
            return [_failure(sim, step, ops, str(exc))]
        except Exception as exc:  # any crash of the system under test is a finding too
            where = traceback.extract_tb(exc.__traceback__)[-1]
            detail = f"unexpected {type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
            return [_failure(sim, step, ops, detail)]
    return []


def _failure(sim: _Sim, step: int, ops: int, detail: str) -> str:
    return (f"seed={sim.seed} step={step}/{ops} op=[{sim.op}]: {detail} — "
            f"replay with: hongbao simulate --seed {sim.seed} --ops {ops}")


def _report(out: Console, result: SimResult) -> None:
    st = result.stats
    table = Table("what", "count", title=f"simulation: seed {result.seed}, {result.ops} operations")
    for key, n in st.items():
        if key.startswith("op:"):
            table.add_row(key[3:], str(n))
    table.add_section()
    for key, label in (("packets", "packets sent"), ("claims", "claims (opened shares)"),
                       ("bursts", "bursts of concurrent opens"), ("retries", "retries answered from the key"),
                       ("twins", "twin requests racing each other"),
                       ("refunds", "packets refunded at expiry"), ("refunded_fen", "refunded (fen)"),
                       ("crashes", "crashes survived"), ("audits", "audits"), ("users", "users"),
                       ("inside_fen", "money inside (fen)")):
        table.add_row(label, str(st.get(key, 0)))
    out.print(table)
    if result.ok:
        out.print(f"[green]ok[/]: every audit passed (seed {result.seed})")
        return
    for failure in result.failures:
        out.print(f"[red]FAILED[/] {escape(failure)}")
    out.print(f"replay with: hongbao simulate --seed {result.seed} --ops {result.ops}", markup=False)
