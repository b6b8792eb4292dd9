"""The browser app's server side: deep links under /app/ answer its one page, and the demo logins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from hongbao.api.deps import AppDep
from hongbao.domain.errors import NotFound
from hongbao.seed import DEMO_PASSWORD, DEMO_USERS, DEMO_VERIFIED

WEB = Path(__file__).resolve().parent.parent.parent / "web"
INDEX = WEB / "index.html"

router = APIRouter(tags=["web"])


def _page() -> Response:
    # The app is one static page: it routes /app/... itself, so a reload or a shared link lands on it.
    return FileResponse(INDEX, headers={"Cache-Control": "no-cache"})


@router.get("/app", include_in_schema=False)
async def app_root() -> Response:
    return _page()


@router.get("/app/{rest:path}", include_in_schema=False)
async def app_page(rest: str) -> Response:
    return _page()


@router.get("/v1/demo-users")
async def demo_users(app: AppDep) -> list[dict[str, Any]]:
    """Embedded mode with demo data on: the demo logins, for one-tap buttons on the login page."""
    settings = app.settings
    embedded = settings.database_url is None or settings.database_url.startswith("sqlite")
    if not (settings.demo and embedded):
        raise NotFound("Demo users exist only in embedded mode with demo data on.", code="not_found")
    people: list[tuple[str, str, str | None]] = [(name, shown, None) for name, shown in DEMO_USERS]
    people += [(name, shown, verified_as) for name, shown, verified_as, _ in DEMO_VERIFIED]
    return [
        {"username": name, "display_name": shown, "password": DEMO_PASSWORD, "verified_as": verified_as}
        for name, shown, verified_as in people
    ]
