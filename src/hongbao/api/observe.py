"""Request ids, request metrics and the access log: one pure ASGI middleware around everything else.

* Every request gets an id: the client's `X-Request-Id` when it is sane (1–128 characters of letters, digits and
  `-_.:+=/`), else 24 random hex digits.  It is answered as `X-Request-Id` and set in `hongbao.logs.REQUEST_ID`,
  so every log line written while the request runs carries it.
* Its duration (arrival to the end of its answer) is counted by method, route template and status for /metrics
  (adapters/metrics.py); the template, not the path, so share tokens and ids never become label values.
* With HONGBAO_ACCESS_LOG on, one `hongbao.access` line per request: method, route template, status, duration and
  client address (no path or query: those may hold share tokens and the event stream's `?token=`).
* A bug that escapes the app is answered here as problem+json 500 with the request id, and logged with it.

The per-request cost is kept to a few dictionary operations (the lead measures it: BENCHMARKS.md).
"""

from __future__ import annotations

import logging
import random
import re
from bisect import bisect_left
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hongbao.adapters.metrics import REQUEST_BUCKETS_S, RequestTimes
from hongbao.api.errors import INTERNAL_DETAIL, problem_body
from hongbao.api.hotpath import ROUTE_KEY, hot_route
from hongbao.bootstrap import App
from hongbao.logs import REQUEST_ID

log = logging.getLogger(__name__)
access = logging.getLogger("hongbao.access")
_SANE_ID = re.compile(rb"[A-Za-z0-9._:+=/-]{1,128}")
UNMATCHED = "unmatched"  # no route: 404s (one label value, however many paths are tried)
# Request ids need to be unique, not secret: a Mersenne Twister seeded from the OS is ten times cheaper than urandom.
_ids = random.Random()


def route_of(scope: Scope) -> str:
    """The route template that answered: FastAPI's (Starlette sets scope["route"]), the lean path's, or none."""
    route = scope.get("route")
    if route is not None:
        return getattr(route, "path", UNMATCHED)
    answered: str | None = scope.get(ROUTE_KEY)
    if answered is not None:
        return answered
    method = "GET" if scope["method"] == "HEAD" else scope["method"]  # HEAD is answered as GET (api/middleware.py)
    return hot_route(method, scope["path"]) or UNMATCHED


class Observe:
    def __init__(self, app: ASGIApp, times: RequestTimes, *, access_log: bool = False) -> None:
        self.app = app
        self.times = times
        self.series = times.series
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        rid: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                if _SANE_ID.fullmatch(value):
                    rid = value
                break
        if rid is None:
            rid = b"%024x" % _ids.getrandbits(96)
        # Each request runs in a task of its own (uvicorn, TestClient), so the id is never seen by another
        # request; it is not reset at the end, so Starlette's outermost error handler still logs with it.
        REQUEST_ID.set(rid)
        status = 0  # until the answer starts; a request given up before that is counted as 499, nginx's word

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid)]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            log.exception("unhandled error")
            if not status:  # nothing was sent yet: answer it here, with the request id
                body = problem_body(500, "internal_error", "Internal error", INTERNAL_DETAIL)
                await observed_send({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
            else:
                raise
        finally:
            seconds = perf_counter() - started
            route = route_of(scope)
            status = status or 499
            # RequestTimes.observe, inlined: this runs for every request
            key = (scope["method"], route, status)
            row = self.series.get(key) or self.times.row(key)
            row[bisect_left(REQUEST_BUCKETS_S, seconds)] += 1
            row[-1] += seconds
            if self.access_log:
                client = scope.get("client")
                access.info("%s %s %d %.1f ms", scope["method"], route, status, seconds * 1000, extra={
                    "method": scope["method"], "route": route, "status": status,
                    "duration_ms": round(seconds * 1000, 3), "client": client[0] if client else None,
                })


def redis_ping(hongbao: App) -> bool:
    """Whether the Redis of scaled mode answers now (for /ready); blocking, run it in a thread."""
    limiters = hongbao.deps.limiters
    client = getattr(limiters, "client", None)
    if client is None:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
