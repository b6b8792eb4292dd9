"""The lean path for 拆 (POST /v1/packets/{id}/open): the request every claimant of a hot packet sends; and for
GET /health, which load balancers ask many times a second.

A pure ASGI middleware answers it without FastAPI's routing and dependency injection, which cost
more than the open itself when 10,000 users storm one packet (profiled: route matching through the
included routers was half of a trivial request's time).  Behaviour is the route's own: same auth,
same Idempotency-Key handling, same problem+json errors; anything it does not recognise (an id out
of range, another method) goes on to FastAPI, where the documented route answers.
"""

from __future__ import annotations

import logging
import re

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from hongbao import __version__
from hongbao.api.deps import ID_MAX, bearer_user, caller_headers
from hongbao.api.errors import INTERNAL_DETAIL, problem_body
from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.service.idempotency import IdempotencyKey

log = logging.getLogger(__name__)
OPEN_PATH = re.compile(r"^/v1/packets/([1-9][0-9]{0,18})/open$")
_JSON = [(b"content-type", b"application/json")]
_PROBLEM = [(b"content-type", b"application/problem+json")]


class HotPath:
    def __init__(self, app: ASGIApp, hongbao: App) -> None:
        self.app = app
        self.hongbao = hongbao

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            if scope["type"] == "http" and scope["path"] == "/health" and scope["method"] == "GET":
                status, body = health(self.hongbao)  # what load balancers ask many times a second, answered here
                await _answer(send, status, _JSON, body)
                return
            await self.app(scope, receive, send)
            return
        match = OPEN_PATH.match(scope["path"])
        if match is None or int(match.group(1)) > ID_MAX:
            await self.app(scope, receive, send)
            return
        packet_id = int(match.group(1))
        authorization, key, behalf = caller_headers(scope["headers"])
        try:
            user_id = await bearer_user(self.hongbao, authorization or "", behalf)
            idem = IdempotencyKey.of(user_id, key, "open", packet_id) if key is not None else None
            reply = await self.hongbao.packets.open(packet_id, user_id, idem)
        except HongbaoError as exc:
            headers = [*_PROBLEM, (b"www-authenticate", b"Bearer")] if exc.status == 401 else _PROBLEM
            if exc.retry_after_s is not None:
                headers = [*headers, (b"retry-after", str(exc.retry_after_s).encode())]
            await _answer(send, exc.status, headers, problem_body(exc.status, exc.code, exc.title, exc.detail))
            return
        except Exception:
            log.exception("unhandled error on the open path")
            body = problem_body(500, "internal_error", "Internal error", INTERNAL_DETAIL)
            await _answer(send, 500, _PROBLEM, body)
            return
        await _answer(send, 200, _JSON, orjson.dumps(reply))


def health(hongbao: App) -> tuple[int, bytes]:
    """Liveness, cheap: 503 only when this process's writer thread is gone (restart the process)."""
    alive = hongbao.store.health()["writer"] != "dead"
    return 200 if alive else 503, orjson.dumps({"status": "ok" if alive else "writer_dead", "version": __version__})


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({
        "type": "http.response.start", "status": status,
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
