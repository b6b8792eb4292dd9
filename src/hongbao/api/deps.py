"""FastAPI dependencies as Annotated aliases: the wired app, the current user, the Idempotency-Key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from pydantic import Field

from hongbao.api.types import DIGITS
from hongbao.api.types import ID_MAX as ID_MAX  # re-exported: hotpath.py reads it here
from hongbao.bootstrap import App
from hongbao.domain.errors import Rejected, Unauthorized
from hongbao.service.hosts import is_host_key
from hongbao.service.tokens import Signed


def the_app(request: Request) -> App:
    app: App = request.app.state.hongbao
    return app


async def get_app(request: Request) -> App:
    """The wired app, as a dependency.  Async on purpose: FastAPI runs a plain `def` dependency in its thread pool,
    a thread hop per request for one attribute read."""
    return the_app(request)


AppDep = Annotated[App, Depends(get_app)]


def caller_headers(scope_headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str | None]:
    """(Authorization, Idempotency-Key, X-On-Behalf-Of) from a request's raw ASGI headers, each None when absent:
    the one header walk of the paths answered outside FastAPI (api/hotpath.py, api/shake_path.py)."""
    authorization = key = behalf = None
    for name, value in scope_headers:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"idempotency-key":
            key = value.decode("latin-1")
        elif name == b"x-on-behalf-of":  # a host app's user (service/hosts.py)
            behalf = value.decode("utf-8", "replace")
    return authorization, key, behalf


async def bearer_user(app: App, authorization: str, on_behalf_of: str | None = None, method: str = "POST") -> int:
    """The user an `Authorization: Bearer <token>` header stands for; 401 otherwise.

    A host app's key (`hk_…`, service/hosts.py) stands for the host's user named in `X-On-Behalf-Of`."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Send 'Authorization: Bearer <token>' (POST /v1/sessions to get one).", code="token_missing"
        )
    token = token.strip()
    if is_host_key(token):
        return await app.hosts.acting_user(token, on_behalf_of, method)
    if on_behalf_of is not None:
        raise Unauthorized("X-On-Behalf-Of is for host keys (hk_…).", code="on_behalf_of_needs_host_key")
    return await app.users.authenticate(token)


async def bearer_user_kept(app: App, authorization: str, on_behalf_of: str | None = None) -> tuple[int, Signed | None]:
    """bearer_user, and a signed session token's claims: a connection that keeps its Authorization (the shake
    WebSocket) checks them again with `Users.authenticate_claims` (expiry, logout) instead of the signature."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token and on_behalf_of is None and not is_host_key(token):
        return await app.users.authenticate_kept(token)
    return await bearer_user(app, authorization, on_behalf_of), None


class BearerUser(SecurityBase):
    """The current user, as a security scheme: OpenAPI lists it (the Authorize button of /docs) on every route
    that needs a token; calling it is bearer_user, nothing more."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(description="A session token from POST /v1/sessions, or a host app's key.")
        self.scheme_name = "bearer"

    async def __call__(self, request: Request) -> int:
        headers = request.headers
        return await bearer_user(
            the_app(request), headers.get("authorization", ""), headers.get("x-on-behalf-of"), request.method
        )


current_user = BearerUser()
CurrentUser = Annotated[int, Depends(current_user)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Client-chosen request id: a retry with the same key and body gets the first answer "
        "and moves no money again; the same key with another body is refused (409 idempotency_key_reused).",
        # Documented, checked by IdempotencyKey.of (422 invalid_idempotency_key), not by FastAPI.
        json_schema_extra={"minLength": 1, "maxLength": 128, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    ),
]

# Integer parameters are decimal digits only (api/types.py): "1.0", "+1" and "true" answer 422.
PathId = Annotated[int, Field(ge=1, le=ID_MAX), DIGITS, Path()]
# A paged list's query parameters (the default page size is each route's own).
Cursor = Annotated[
    str | None, Query(max_length=32, json_schema_extra={"pattern": "^[0-9]{1,18}$"}, description="A next_cursor.")
]
PageLimit = Annotated[int, Field(ge=1, le=100), DIGITS, Query()]


def page_cursor(cursor: str | None) -> int | None:
    """A `cursor` query parameter (the `next_cursor` of a previous page) as an id, or None for the first page."""
    if cursor is None:
        return None
    if not _decimal(cursor):
        raise Rejected("cursor is the next_cursor of a previous page.", code="invalid_cursor")
    return int(cursor)


def activity_cursor(cursor: str | None) -> tuple[int, int] | None:
    """A `cursor` of a list ordered by last activity ("<activity id>.<id>", a previous page's `next_cursor`)."""
    if cursor is None:
        return None
    activity, dot, item = cursor.partition(".")
    if not dot or not _decimal(activity) or not _decimal(item):
        raise Rejected("cursor is the next_cursor of a previous page.", code="invalid_cursor")
    return int(activity), int(item)


def _decimal(text: str) -> bool:
    """ASCII digits that fit an id ("²" is a digit to str.isdigit but not to int)."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()
