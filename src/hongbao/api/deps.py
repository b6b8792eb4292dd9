"""FastAPI dependencies as Annotated aliases: the wired app, the current user, the Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from hongbao.bootstrap import App
from hongbao.domain.errors import Unauthorized


def get_app(request: Request) -> App:
    app: App = request.app.state.hongbao
    return app


AppDep = Annotated[App, Depends(get_app)]


async def current_user(request: Request, app: AppDep) -> int:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Send 'Authorization: Bearer <token>' (POST /v1/sessions to get one).", code="token_missing"
        )
    return await app.users.authenticate(token.strip())


CurrentUser = Annotated[int, Depends(current_user)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Client-chosen request id: a retry with the same key and body gets the first answer "
        "and moves no money again; the same key with another body is refused (409 idempotency_key_reused).",
    ),
]

ID_MAX = 2**62  # ids fit a signed 64-bit column; larger ones are refused as 422, not a database error
PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
