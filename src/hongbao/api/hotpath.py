"""The lean path for 拆 (POST /v1/packets/{id}/open): the request every claimant of a hot packet sends; for
GET /health, which load balancers ask many times a second; and for the simple authenticated GETs an app polls,
your wallet (GET /v1/wallet, /v1/users/{id}/wallet) and who you are (GET /v1/me).

A pure ASGI middleware answers them without FastAPI's routing and dependency injection, which cost
more than the open itself when 10,000 users storm one packet (profiled: route matching through the
included routers was half of a trivial request's time), and twice a lookup's cost on a GET: through
FastAPI, GET /v1/wallet cost ~150 µs of CPU of routing, the two dependencies and the response model
around an ~11 µs lookup, against ~70 µs for FastAPI's own validated hello (bench/request_cost.py).
Behaviour is the route's own: same auth, same Idempotency-Key handling, same answer (the route's
response model, serialised), same problem+json errors; anything it does not recognise (an id out of
range, another method) goes on to FastAPI, where the documented route answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from hongbao import __version__
from hongbao.api.deps import ID_MAX, bearer_user, caller_headers
from hongbao.api.errors import INTERNAL_DETAIL, problem_body
from hongbao.api.schemas import BalancePublic, MePublic
from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError, NotFound
from hongbao.service.idempotency import IdempotencyKey

log = logging.getLogger(__name__)
OPEN_PATH = re.compile(r"^/v1/packets/([1-9][0-9]{0,18})/open$")
WALLET_OF_PATH = re.compile(r"^/v1/users/([1-9][0-9]{0,18})/wallet$")
WALLET_OF_ROUTE = "/v1/users/{owner_id}/wallet"
OPEN_ROUTE = "/v1/packets/{packet_id}/open"
# The route template of a request answered here, put in its scope for the request metrics (api/observe.py), which
# would otherwise match the path again.
ROUTE_KEY = "hongbao.route"
_JSON = [(b"content-type", b"application/json")]
_PROBLEM = [(b"content-type", b"application/problem+json")]


async def _wallet(app: App, user_id: int, _: int) -> bytes:
    """GET /v1/wallet (routes/wallet.py `balance`)."""
    return BalancePublic(user_id=user_id, balance_fen=await app.wallet.balance(user_id)).model_dump_json().encode()


async def _wallet_of(app: App, user_id: int, owner_id: int) -> bytes:
    """GET /v1/users/{owner_id}/wallet (routes/wallet.py `balance_of`): only your own, others answer 404."""
    if owner_id != user_id:
        raise NotFound("No such wallet.", code="account_not_found")
    return await _wallet(app, user_id, owner_id)


async def _me(app: App, user_id: int, _: int) -> bytes:
    """GET /v1/me (routes/users.py `me`)."""
    u = await app.users.me(user_id)
    return MePublic(id=u.id, username=u.username, display_name=u.display_name, verified_as=u.verified_as,
                    is_admin=u.is_admin, merchant=u.merchant).model_dump_json().encode()


# The GETs answered here, by exact path: each answers the route's JSON body for the caller (and the path's id).
_GETS: dict[str, Callable[[App, int, int], Awaitable[bytes]]] = {"/v1/wallet": _wallet, "/v1/me": _me}


def hot_route(method: str, path: str) -> str | None:
    """The route template of a request this path answers (for /metrics and the access log), else None."""
    if path == "/health":
        return path
    if method == "POST":
        return OPEN_ROUTE if OPEN_PATH.match(path) else None
    if method != "GET":
        return None
    if path in _GETS:
        return path
    return WALLET_OF_ROUTE if WALLET_OF_PATH.match(path) else None


class HotPath:
    def __init__(self, app: ASGIApp, hongbao: App) -> None:
        self.app = app
        self.hongbao = hongbao

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            if scope["type"] == "http" and scope["method"] == "GET":
                path = scope["path"]
                if path == "/health":
                    scope[ROUTE_KEY] = path
                    status, body = health(self.hongbao)  # what load balancers ask many times a second, answered here
                    await _answer(send, status, _JSON, body)
                    return
                answer = _GETS.get(path)
                path_id = 0
                if answer is None and (match := WALLET_OF_PATH.match(path)) is not None:
                    path_id = int(match.group(1))
                    answer = _wallet_of if path_id <= ID_MAX else None
                if answer is not None:
                    scope[ROUTE_KEY] = WALLET_OF_ROUTE if path_id else path
                    await self._get(scope, send, answer, path_id)
                    return
            await self.app(scope, receive, send)
            return
        match = OPEN_PATH.match(scope["path"])
        if match is None or int(match.group(1)) > ID_MAX:
            await self.app(scope, receive, send)
            return
        packet_id = int(match.group(1))
        scope[ROUTE_KEY] = OPEN_ROUTE
        authorization, key, behalf = caller_headers(scope["headers"])
        try:
            user_id = await bearer_user(self.hongbao, authorization or "", behalf)
            idem = IdempotencyKey.of(user_id, key, "open", packet_id) if key is not None else None
            reply = await self.hongbao.packets.open(packet_id, user_id, idem)
        except HongbaoError as exc:
            await _refuse(send, exc, problem_body(exc.status, exc.code, exc.title, exc.detail))
            return
        except Exception:
            log.exception("unhandled error on the open path")
            await _answer(send, 500, _PROBLEM, problem_body(500, "internal_error", "Internal error", INTERNAL_DETAIL))
            return
        await _answer(send, 200, _JSON, orjson.dumps(reply))

    async def _get(self, scope: Scope, send: Send, answer: Callable[[App, int, int], Awaitable[bytes]],
                   path_id: int) -> None:
        """One of the simple authenticated GETs: the caller from their token (or a host key acting for one of its
        users, with the read scope), then the route's answer."""
        authorization, _, behalf = caller_headers(scope["headers"])
        try:
            user_id = await bearer_user(self.hongbao, authorization or "", behalf, "GET")
            body = await answer(self.hongbao, user_id, path_id)
        except HongbaoError as exc:  # as errors.py answers it for a route: with the error's limits
            await _refuse(send, exc, problem_body(exc.status, exc.code, exc.title, exc.detail, **exc.limits))
            return
        except Exception:
            log.exception("unhandled error on a lean GET")
            await _answer(send, 500, _PROBLEM, problem_body(500, "internal_error", "Internal error", INTERNAL_DETAIL))
            return
        await _answer(send, 200, _JSON, body)


def health(hongbao: App) -> tuple[int, bytes]:
    """Liveness, cheap: 503 only when this process's writer thread is gone (restart the process)."""
    alive = hongbao.store.health()["writer"] != "dead"
    return 200 if alive else 503, orjson.dumps({"status": "ok" if alive else "writer_dead", "version": __version__})


async def _refuse(send: Send, exc: HongbaoError, body: bytes) -> None:
    headers = [*_PROBLEM, (b"www-authenticate", b"Bearer")] if exc.status == 401 else _PROBLEM
    if exc.retry_after_s is not None:
        headers = [*headers, (b"retry-after", str(exc.retry_after_s).encode())]
    await _answer(send, exc.status, headers, body)


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({
        "type": "http.response.start", "status": status,
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
