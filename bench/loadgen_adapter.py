"""The hongbao adapter for the shared red-packet load generator (../shared/bench/loadgen.py).

Every storm packet is a lucky group packet in one big group of this loadgen run: the first user
logged in is the sender (loadgen logs the sender in first); every later user befriends the sender,
and the sender's first send() creates the group with all of them (or, with `--option members=add`,
adds each one by POST /v1/groups/{id}/members as they log in).  "Grab" for the load generator is
POST /v1/packets/{id}/open: hongbao's open runs the grab check and moves the money.

The server needs HONGBAO_GROUP_MEMBERS_MAX above the number of users (e.g. 20001); cheap argon2
(HONGBAO_ARGON2_TIME_COST=1 HONGBAO_ARGON2_MEMORY_KIB=8) keeps the untimed set-up short.

Options (--option KEY=VALUE): split=double_mean|line_cut (default double_mean), members=create|add
(default create), topup_fen=N (sender top-up, default 5000000), password=... (every bench user's).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from loadgen import DUPLICATE, EMPTY, ERROR, WON, Adapter, Engine, Outcome, Packet, Request, User

JSON = {"Content-Type": "application/json"}
GROUP_CREATE_MEMBERS_MAX = 10_000  # GroupCreate.member_ids max_length


class HongbaoAdapter(Adapter):
    """hongbao's HTTP API: /v1/users, /v1/sessions, friends, groups, /v1/packets/{id}/open."""

    name = "hongbao"
    default_url = "http://127.0.0.1:8000"

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.split = options.get("split", "double_mean")
        if self.split not in ("double_mean", "line_cut"):
            raise SystemExit(f"split must be double_mean or line_cut, not {self.split!r}")
        self.members_mode = options.get("members", "create")
        if self.members_mode not in ("create", "add"):
            raise SystemExit(f"members must be create or add, not {self.members_mode!r}")
        self.topup_fen = int(options.get("topup_fen", "5000000"))
        self.password = options.get("password", "bench-password-1")
        self.sender: User | None = None
        self.sender_ready = asyncio.Event()
        self.group_id: int | None = None
        self.pending_members: list[int] = []  # server user ids befriended, not yet in the group

    # ------------------------------------------------------------------ set-up (untimed)

    async def login(self, http: Engine, user_id: int) -> User:
        name = f"u{user_id}"
        status, body = await _call(http, Request("POST", "/v1/users", JSON,
                                                 _dump({"username": name, "password": self.password})))
        if status != 201 and not (status == 409 and _code(body) == "username_taken"):
            raise RuntimeError(f"register {name}: HTTP {status}: {body[:200]!r}")
        status, body = await _call(http, Request("POST", "/v1/sessions", JSON,
                                                 _dump({"username": name, "password": self.password})))
        if status != 201:
            raise RuntimeError(f"login {name}: HTTP {status}: {body[:200]!r}")
        session = json.loads(body)
        user = User(user_id, {"token": session["token"], "uid": session["user_id"],
                              "auth": {"Authorization": f"Bearer {session['token']}"}})
        if self.sender is None:
            self.sender = user
            await self._top_up(http, user)
            if self.members_mode == "add":
                reply = await _ok(http, Request("POST", "/v1/groups", _headers(user),
                                                _dump({"name": f"bench {user_id}", "member_ids": []})),
                                  "create group")
                self.group_id = reply["id"]
            self.sender_ready.set()
            return user
        await self.sender_ready.wait()
        await self._befriend_sender(http, user)
        if self.members_mode == "add":
            await self._add_member(http, user.credential["uid"])
        else:
            self.pending_members.append(user.credential["uid"])
        return user

    async def _top_up(self, http: Engine, sender: User) -> None:
        await _ok(http, Request("POST", "/v1/wallet/top-ups", _headers(sender),
                                _dump({"amount_fen": self.topup_fen})), "top up the sender")

    async def _befriend_sender(self, http: Engine, user: User) -> None:
        assert self.sender is not None
        sender_uid = self.sender.credential["uid"]
        status, body = await _call(http, Request("POST", "/v1/friends/requests", _headers(user),
                                                 _dump({"user_id": sender_uid})))
        if status == 409 and _code(body) == "already_friends":
            return
        if status != 201 and not (status == 409 and _code(body) == "already_requested"):
            raise RuntimeError(f"friend request u{user.id}: HTTP {status}: {body[:200]!r}")
        if status == 201 and json.loads(body).get("status") == "accepted":
            return
        await _ok(http, Request("POST", f"/v1/friends/requests/{user.credential['uid']}/accept",
                                _headers(self.sender)), f"accept u{user.id}")

    async def _add_member(self, http: Engine, uid: int) -> None:
        assert self.sender is not None and self.group_id is not None
        status, body = await _call(http, Request("POST", f"/v1/groups/{self.group_id}/members",
                                                 _headers(self.sender), _dump({"user_id": uid})))
        if status != 201 and not (status == 409 and _code(body) == "already_member"):
            raise RuntimeError(f"add member {uid}: HTTP {status}: {body[:200]!r}")

    async def _ensure_group(self, http: Engine, sender: User) -> int:
        """The first send creates the group of every user logged in so far (one request)."""
        if self.group_id is None:
            first = self.pending_members[:GROUP_CREATE_MEMBERS_MAX]
            rest = self.pending_members[GROUP_CREATE_MEMBERS_MAX:]
            reply = await _ok(http, Request("POST", "/v1/groups", _headers(sender),
                                            _dump({"name": f"bench {sender.id}", "member_ids": first})),
                              "create group")
            self.group_id = reply["id"]
            self.pending_members = rest
        while self.pending_members:
            await self._add_member(http, self.pending_members.pop())
        return self.group_id

    async def send(self, http: Engine, sender: User, total: int, shares: int) -> Packet:
        group_id = await self._ensure_group(http, sender)
        body = {"kind": "group", "group_id": group_id, "split": self.split, "shares_count": shares,
                "total_fen": total, "greeting": "gong xi fa cai"}
        request = Request("POST", "/v1/packets", _headers(sender), _dump(body))
        status, reply = await _call(http, request)
        if status == 422 and _code(reply) == "insufficient_funds":
            await self._top_up(http, sender)
            status, reply = await _call(http, request)
        if status != 201:
            raise RuntimeError(f"send: HTTP {status}: {reply[:300]!r}")
        return Packet(json.loads(reply)["id"], total, shares)

    async def claims(self, http: Engine, packet: Packet, user: User) -> list[int] | None:
        reply = await _ok(http, Request("GET", f"/v1/packets/{packet.id}", user.credential["auth"]),
                          f"packet {packet.id} as u{user.id}")
        uid = user.credential["uid"]
        return [c["amount_fen"] for c in reply.get("claims") or [] if c["user_id"] == uid]

    # ------------------------------------------------------------------ the storm

    def grab(self, packet: Packet, user: User) -> Request:
        return Request("POST", f"/v1/packets/{packet.id}/open", user.credential["auth"])

    def classify(self, status: int, body: bytes) -> Outcome:
        try:
            reply: Any = json.loads(body) if body else {}
        except ValueError:
            reply = {}
        if not isinstance(reply, dict):
            reply = {}
        if status == 200 and isinstance(reply.get("amount_fen"), int):
            return Outcome(WON, reply["amount_fen"])
        code = reply.get("code", "")
        if status == 409 and code == "packet_exhausted":
            return Outcome(EMPTY)
        if status == 409 and code == "already_claimed":
            return Outcome(DUPLICATE)
        return Outcome(ERROR, detail=f"{status} {code or body[:80]!r}")

    def probe(self, user: User) -> Request:
        return Request("GET", "/health")


def _headers(user: User) -> dict[str, str]:
    return {**user.credential["auth"], **JSON}


def _dump(value: object) -> bytes:
    return json.dumps(value).encode()


def _code(body: bytes) -> str:
    try:
        reply = json.loads(body)
    except ValueError:
        return ""
    return str(reply.get("code", "")) if isinstance(reply, dict) else ""


async def _call(http: Engine, request: Request) -> tuple[int, bytes]:
    return await http.call(http.prepare(request))


async def _ok(http: Engine, request: Request, what: str) -> Any:
    status, body = await _call(http, request)
    if not 200 <= status < 300:
        raise RuntimeError(f"{what}: HTTP {status}: {body[:300]!r}")
    return json.loads(body)
