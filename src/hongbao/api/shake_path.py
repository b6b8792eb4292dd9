"""The lean path for 摇一摇 (POST /v1/shake/events/{id}/shake): the request a Gala night sends by the million.

A pure ASGI middleware, the outermost, answers it without FastAPI's routing and dependency injection (as
api/hotpath.py does for 拆) and without the other middlewares (it adds the security headers itself; shakes are
not in the request metrics nor the access log): same auth, same Idempotency-Key handling, same problem+json
errors as the documented route, which answers anything this does not recognise.  The shake itself is
service/shake.py: a losing shake is answered from memory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from hongbao.api.deps import ID_MAX, bearer_user, bearer_user_kept, caller_headers
from hongbao.api.errors import INTERNAL_DETAIL, problem_body
from hongbao.api.security import API_CSP
from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.service.idempotency import IdempotencyKey
from hongbao.service.tokens import Signed

log = logging.getLogger(__name__)
SHAKE_PATH = re.compile(r"^/v1/shake/events/([1-9][0-9]{0,18})/shake$")
SOCKET_PATH = "/v1/shake/socket"
MESSAGE_BYTES_MAX = 1024  # a shake message is a few dozen bytes
# What SecurityHeaders adds to an API answer: this path runs outside it, to skip every other layer's cost.
_SECURE = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"x-frame-options", b"DENY"), (b"content-security-policy", API_CSP)]  # fmt: skip
_JSON = [(b"content-type", b"application/json"), *_SECURE]
_PROBLEM = [(b"content-type", b"application/problem+json"), *_SECURE]


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return None if not client else str(client[0])


class KeptBearer:
    """A WebSocket's caller, checked before each of its messages as a request's is: the token's signature once (a
    signed session token), then its expiry and logout each time (`Users.authenticate_claims`); any other token
    (a first-format token, a host key) as bearer_user checks it each time."""

    __slots__ = ("authorization", "behalf", "claims", "hongbao")

    def __init__(self, hongbao: App, authorization: str, behalf: str | None) -> None:
        self.hongbao, self.authorization, self.behalf = hongbao, authorization, behalf
        self.claims: Signed | None = None

    async def __call__(self) -> int:
        if self.claims is not None:
            return await self.hongbao.users.authenticate_claims(self.claims)
        user_id, self.claims = await bearer_user_kept(self.hongbao, self.authorization, self.behalf)
        return user_id


async def shake_reply(hongbao: App, event_id: int, caller: Callable[[], Awaitable[int]], key: str | None,
                      address: str | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:  # fmt: skip
    """One shake as (status, headers, body): what the HTTP path and the WebSocket answer; `caller()` is the user
    (or raises 401)."""
    try:
        user_id = await caller()
        idem = IdempotencyKey.of(user_id, key, "shake", event_id) if key is not None else None
        reply = await hongbao.shake.shake(event_id, user_id, idem, address=address)
    except HongbaoError as exc:
        headers = [*_PROBLEM, (b"www-authenticate", b"Bearer")] if exc.status == 401 else _PROBLEM
        if exc.retry_after_s is not None:
            headers = [*headers, (b"retry-after", str(exc.retry_after_s).encode())]
        return exc.status, headers, problem_body(exc.status, exc.code, exc.title, exc.detail)
    except Exception:
        log.exception("unhandled error on the shake path")
        return 500, _PROBLEM, problem_body(500, "internal_error", "Internal error", INTERNAL_DETAIL)
    return 200, _JSON, orjson.dumps(reply)


class ShakePath:
    def __init__(self, app: ASGIApp, hongbao: App) -> None:
        self.app = app
        self.hongbao = hongbao

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == SOCKET_PATH:
            await self._socket(scope, receive, send)
            return
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = SHAKE_PATH.match(scope["path"])
        if match is None or int(match.group(1)) > ID_MAX:
            await self.app(scope, receive, send)
            return
        authorization, key, behalf = caller_headers(scope["headers"])
        caller = partial(bearer_user, self.hongbao, authorization or "", behalf)
        status, headers, body = await shake_reply(self.hongbao, int(match.group(1)), caller, key, client_address(scope))
        await send({
            "type": "http.response.start", "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Shakes on one connection (WebSocket `/v1/shake/socket`): each text message `{"event_id": 1}` (optional
        `"id"`, echoed, and `"key"`, an Idempotency-Key) is one shake under the same rules and limits as the POST,
        answered in order by `{"id": …, "status": 200, …the shake's answer}` or `{"id": …, "status": 4xx,
        "problem": {…}}`; `{"live": <event id>}` answers the page's counters (prizes left, this server's shakes a
        second; 404 for an event of another world, as for none).  The token comes in the upgrade's Authorization
        header or, from a browser (which cannot set headers), as the first message `{"token": "…"}`; a bad one
        closes the socket with code 4401."""
        authorization, _, behalf = caller_headers(scope["headers"])  # a shake's key comes in its message
        caller = None if authorization is None else KeptBearer(self.hongbao, authorization, behalf)
        address = client_address(scope)
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text") or message.get("bytes") or b""
            try:
                if len(raw) > MESSAGE_BYTES_MAX:
                    raise ValueError("too long")
                asked = orjson.loads(raw)
                if not isinstance(asked, dict):
                    raise ValueError("not an object")
            except ValueError:
                await _send_json(send, {"status": 422, "problem": _bad_message()})
                continue
            ref = asked.get("id")
            if caller is None:
                token = asked.get("token")
                if not isinstance(token, str):
                    await send({"type": "websocket.close", "code": 4401, "reason": "send {\"token\": …} first"})
                    return
                caller = KeptBearer(self.hongbao, f"Bearer {token}", behalf)
                try:
                    user_id = await caller()
                except HongbaoError:
                    await send({"type": "websocket.close", "code": 4401, "reason": "bad token"})
                    return
                await _send_json(send, {"id": ref, "status": 200, "ready": True, "user_id": user_id})
                continue
            if "live" in asked:  # the page's live counters: {"live": <event id>}
                try:
                    live_of = int(asked["live"])
                except (TypeError, ValueError):
                    await _send_json(send, {"id": ref, "status": 422, "problem": _bad_message()})
                    continue
                try:  # the counters of an event of the caller's world only (service/worlds.py)
                    live = await self.hongbao.shake.live(live_of, await caller())
                except HongbaoError as exc:
                    if exc.status == 401:
                        await send({"type": "websocket.close", "code": 4401, "reason": "bad token"})
                        return
                    problem = orjson.loads(problem_body(exc.status, exc.code, exc.title, exc.detail))
                    await _send_json(send, {"id": ref, "status": exc.status, "problem": problem})
                    continue
                await _send_json(send, {"id": ref, "status": 200, "live": live})
                continue
            event_id, key = asked.get("event_id"), asked.get("key")
            if isinstance(event_id, bool) or not isinstance(event_id, int) or not 1 <= event_id <= ID_MAX or (
                key is not None and not isinstance(key, str)
            ):
                await _send_json(send, {"id": ref, "status": 422, "problem": _bad_message()})
                continue
            status, _, body = await shake_reply(self.hongbao, event_id, caller, key, address)
            if status == 200:  # the shake's answer with the id and status first: {"id":…,"status":200,…}
                answer = b'{"id":' + orjson.dumps(ref) + b',"status":200,' + body[1:]
            elif status == 401:
                await send({"type": "websocket.close", "code": 4401, "reason": "bad token"})
                return
            else:
                answer = b'{"id":%b,"status":%d,"problem":%b}' % (orjson.dumps(ref), status, body)
            await send({"type": "websocket.send", "text": answer.decode()})


def _bad_message() -> dict[str, object]:
    return {"type": "about:blank", "status": 422, "code": "invalid_request", "title": "Invalid request",
            "detail": 'Each message is JSON: {"event_id": <id>} (optional "id" and "key").'}  # fmt: skip


async def _send_json(send: Send, body: dict[str, object]) -> None:
    await send({"type": "websocket.send", "text": orjson.dumps(body).decode()})
