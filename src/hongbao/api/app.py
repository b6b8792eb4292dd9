"""The FastAPI application: routes, problem+json errors, the web page, and the embedded scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
from fastapi import FastAPI
from starlette.responses import PlainTextResponse, Response

from hongbao import __version__
from hongbao.adapters.metrics import CONTENT_TYPE, Metrics
from hongbao.api import docs, errors, hotpath, openapi
from hongbao.api.hotpath import HotPath
from hongbao.api.middleware import EdgeLimits
from hongbao.api.observe import Observe, redis_ping
from hongbao.api.routes import (
    campaigns,
    conversations,
    hosts,
    landing,
    open_kinds,
    packets,
    relay,
    social,
    social_graph,
    users,
    wallet,
    web,
)
from hongbao.api.security import SecurityHeaders
from hongbao.api.shake_path import ShakePath
from hongbao.api.static import IMMUTABLE, SHORT, CachedStaticFiles, WebApp
from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.gc_tuned import gc_tuned
from hongbao.scheduler import Sweeper

log = logging.getLogger(__name__)
WEB = Path(__file__).resolve().parent.parent / "web"

DESCRIPTION = """
hongbao: red packets (红包) on a double-entry ledger.

* Amounts are integers in **fen** (`amount_fen`; 100 fen = 1 yuan).
* Authenticate with `POST /v1/sessions`, then send `Authorization: Bearer <token>`.
* Money-moving POSTs take an `Idempotency-Key` header: a retry gets the first answer and moves no money again.
* Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""


async def _expiry_loop(app: App, metrics: Metrics) -> None:
    """Embedded mode: the sweeper in this process (scaled mode runs `hongbao worker`)."""
    sweeper = Sweeper(app, metrics.swept_once)
    while True:
        await sweeper.run_once()
        await asyncio.sleep(app.settings.scheduler_interval_s)


def create_app(hongbao: App, *, scheduler: bool | None = None, close_on_shutdown: bool = False,
               tune_gc: bool = False) -> FastAPI:
    """The API on `hongbao`.  `close_on_shutdown`: the App is closed when the server stops; `tune_gc`: a served
    process's collector is tuned (gc_tuned.py) from start to stop, not a test's or a tool's."""
    run_scheduler = hongbao.settings.scheduler if scheduler is None else scheduler
    metrics = Metrics(hongbao)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:  # the token key and the revocation list, before the first request rather than during a storm
            await hongbao.users.prime()
        except HongbaoError:
            log.warning("tokens not primed at start (database unavailable); the first request will")
        task = asyncio.create_task(_expiry_loop(hongbao, metrics)) if run_scheduler else None
        try:
            with gc_tuned() if tune_gc else contextlib.nullcontext():
                yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if close_on_shutdown:
                hongbao.close()
                api.state.closed = True
                log.info("stopped: the writer committed what was queued (%d batches)", hongbao.store.batches)

    # FastAPI's native OpenTelemetry is off: /metrics (api/observe.py) counts requests, and asking whether any
    # provider is configured cost ~12 % of a refused open (bench/request_cost.py).
    api = FastAPI(title="hongbao", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  telemetry={"tracing": False, "metrics": False, "logs": False},
                  docs_url=None, redoc_url=None, generate_unique_id_function=openapi.operation_id)
    api.state.hongbao = hongbao
    errors.install(api)
    docs.install(api)  # /docs and /redoc from this server's files, not a CDN
    openapi.install(api)
    api.add_middleware(HotPath, hongbao=hongbao)
    # Added last, so they run first: every request, the open fast path's too, is limited (body size and read
    # deadline, HEAD as GET), and every answer carries the security headers.
    api.add_middleware(EdgeLimits, body_bytes_max=hongbao.settings.body_bytes_max,
                       body_read_timeout_s=hongbao.settings.body_read_timeout_s)
    # Request ids, request metrics and the access log: around everything but the security headers, so it sees
    # every answer (the edge's refusals too) and its own 500s still get those headers.
    api.add_middleware(Observe, times=metrics.requests, access_log=hongbao.settings.access_log)
    api.add_middleware(SecurityHeaders)
    # Outermost: 摇一摇 answered before every other layer, with the same security headers (api/shake_path.py).
    api.add_middleware(ShakePath, hongbao=hongbao)

    @api.get("/health", tags=["ops"], responses=openapi.HEALTH)
    async def health() -> Response:
        """Liveness, cheap: 503 only when this process's writer thread is gone (restart the process)."""
        # api/hotpath.py answers it before routing; this route documents it (and answers apps built without it).
        status, body = hotpath.health(hongbao)
        return Response(body, status_code=status, media_type="application/json")

    @api.get("/ready", tags=["ops"], responses=openapi.READY)
    async def ready() -> Response:
        """Readiness: the database answers, Redis too when configured, and the writer is neither dead nor stuck on
        one batch (503 otherwise)."""
        state = hongbao.store.health()
        loop = asyncio.get_running_loop()
        database = await loop.run_in_executor(None, hongbao.store.ping)
        redis = None if hongbao.settings.redis_url is None else await loop.run_in_executor(None, redis_ping, hongbao)
        ok = database and redis is not False and state["writer"] == "ok"
        body = {"status": "ready" if ok else "unavailable", "database": "ok" if database else "unreachable", **state}
        if redis is not None:
            body["redis"] = "ok" if redis else "unreachable"
        headers = None if ok else {"Retry-After": "1"}
        return Response(orjson.dumps(body), status_code=200 if ok else 503, media_type="application/json",
                        headers=headers)

    if hongbao.settings.metrics:

        @api.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
        async def prometheus_metrics() -> Response:
            """Prometheus metrics of this process (text format 0.0.4): requests, opens, the writer, sweeps, ..."""
            return Response(await metrics.exposition(), media_type=CONTENT_TYPE)

    # Routes are matched in order, one by one: the cheap probes first, then the hot resources.  Each router's routes
    # are added to the app's own list rather than through include_router: FastAPI then matches an included router
    # route by route under its prefix, and every router here shares "/v1", which made routing most of a simple
    # request's cost (bench/request_cost.py; BENCHMARKS.md).  The routes already carry their prefix and tags.
    for module in (packets, users, wallet, social, social_graph, conversations, relay, campaigns, open_kinds, landing,
                   hosts, web):
        api.router.routes.extend(module.router.routes)

    if (WEB / "index.html").exists():
        # The versioned prefix first: Starlette matches in order, and /static would also match /static/v/….
        page = api.state.web_app = WebApp.load(WEB)
        api.mount(page.prefix, CachedStaticFiles(directory=WEB / "static", cache_control=IMMUTABLE), name="static_v")
        api.mount("/static", CachedStaticFiles(directory=WEB / "static", cache_control=SHORT), name="static")

        @api.get("/", include_in_schema=False)
        async def index() -> Response:
            return page.page()

    return api
