"""One translation of every error into RFC 9457 problem+json; never a traceback, never an HTML page."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hongbao.domain.errors import HongbaoError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


INTERNAL_DETAIL = "Something went wrong on our side; nothing was charged twice."


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> bytes:
    """The RFC 9457 document for one error, as JSON bytes."""
    body = {"type": f"/problems/{code}", "code": code, "title": title, "status": status, "detail": detail, **extra}
    return orjson.dumps(body)


def problem(
    status: int, code: str, title: str, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> Response:
    sent = dict(headers or {})
    if status == 401:
        sent["WWW-Authenticate"] = "Bearer"
    return Response(problem_body(status, code, title, detail, **extra), status_code=status, media_type=PROBLEM,
                    headers=sent)


def retry_after(exc: HongbaoError) -> dict[str, str] | None:
    """The Retry-After header an error asks for (503 while the database is away, 429), or None."""
    return None if exc.retry_after_s is None else {"Retry-After": str(exc.retry_after_s)}


def allowed_methods(request: Request) -> str:
    """Every method some route of this path answers (HEAD wherever GET: api/middleware.py): FastAPI's own 405
    names only the first route that matched the path (GET /v1/groups and POST /v1/groups are two routes).  A path
    that a route names literally is that route's (POST /v1/packets/celebrity), not a parameter's value."""
    path = request.scope["path"]
    literal: set[str] = set()
    templated: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            (templated if "{" in (route.path or "") else literal).update(route.methods)
    methods = literal or templated
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(HongbaoError)
    async def _domain(_: Request, exc: HongbaoError) -> Response:
        return problem(exc.status, exc.code, exc.title, exc.detail, headers=retry_after(exc), **exc.limits)

    @app.exception_handler(RequestValidationError)
    async def _shape(_: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ][:20]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"])
        if first.get("type") == "json_invalid":
            where = "body"  # its loc is ("body", character offset), not a field
        return problem(
            422, "invalid_request", "The request is malformed", f"{where}: {first['msg']}", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # 400 is FastAPI's "error parsing the body" (JSON nested too deep, an integer of thousands of digits).
        codes = {
            400: "invalid_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "too_large"
        }
        code = codes.get(exc.status_code, "http_error")
        # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem(
            500,
            "internal_error",
            "Internal error",
            INTERNAL_DETAIL,
        )
