"""The workload's people: registering, logging in and out, topping up and withdrawing, friends and groups."""

from __future__ import annotations

from datetime import timedelta

from hongbao.sim.base import NO_SUCH_ID, PASSWORD, Mismatch
from hongbao.sim.hostile import LOST, HostileOps
from hongbao.sim.model import Group, Token


class PeopleOps(HostileOps):
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
                raise Mismatch(f"register gave the existing user id {uid}")
            self.m.add_user(uid, name)

    async def op_session(self) -> None:
        r, now = self.rng.random(), self.clock.now()
        if r < 0.4 or not self.m.tokens:
            user = self.user()
            name = self.m.name_of[user]
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
                self.m.tokens.append(Token(session.token, user, session.expires_at))
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
        reply, code = await self.money("top-up", user, params, key)
        if code == LOST:
            return
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
        reply, code = await self.money("withdraw", user, params, key)
        if code == LOST:
            return
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
            requester, addressee = self.rng.choice(list(self.m.pending))
            self.note("accept_friend", f"u={addressee} from={requester}")
            reply, code = await self.attempt(self.app.social.accept_friend(addressee, requester))
            self.expect(code, None, "accept friend")
            del self.m.pending[(requester, addressee)]
            self.m.befriend(requester, addressee)
            return
        a, b = self.user(), self.user()
        if r < 0.50:
            self.note("accept_friend", f"u={a} from={b}")
            _, code = await self.attempt(self.app.social.accept_friend(a, b))
            self.expect(code, None if (b, a) in self.m.pending else "friend_request_not_found", "accept friend")
            if (b, a) in self.m.pending:
                del self.m.pending[(b, a)]
                self.m.befriend(a, b)
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
            del self.m.pending[(b, a)]
            self.m.befriend(a, b)
        elif (a, b) in self.m.pending:
            self.expect(code, "already_requested", "befriend")
        else:
            self.expect(code, None, "befriend")
            self.same(reply and reply["status"], "pending", "a new request")
            self.m.pending[(a, b)] = None

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
        if self.rng.random() < 0.12:
            # A stranger (drawn, not listed: a scan of every user would grow with the run).
            stranger = self.user()
            if stranger != owner and not self.m.are_friends(owner, stranger):
                members.append(stranger)
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
                raise Mismatch(f"create group gave the existing group id {gid}")
            self.m.groups[gid] = Group(owner, {owner, *members})
            self.m.group_ids.append(gid)
            self.same(sorted(m["id"] for m in reply["members"]), sorted(self.m.groups[gid].members), "members")

    def _pick_group(self) -> tuple[int, Group | None]:
        if self.rng.random() < 0.03:
            return NO_SUCH_ID, None
        gid = self.rng.choice(self.m.group_ids)
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

