"""/docs (Swagger UI) and /redoc served from this server's own files, so they work without the internet.

FastAPI's pages load Swagger UI and ReDoc from a CDN: offline (or behind a firewall) /docs is a blank page.
The files come pinned from the `fastapi-offline` package (only its static/ folder is used) and are served at
/docs/assets/<its version>/…, cached as immutable: an upgrade of the package changes the URL.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse

from hongbao.api.static import IMMUTABLE, CachedStaticFiles

ASSETS_PACKAGE = "fastapi_offline"
ASSETS_ROOT = "/docs/assets"


def assets_dir() -> Path:
    return Path(str(resources.files(ASSETS_PACKAGE) / "static"))


def assets_prefix() -> str:
    return f"{ASSETS_ROOT}/{metadata.version('fastapi-offline')}"


def install(api: FastAPI) -> None:
    """Add /docs and /redoc (the app is created with docs_url=None, redoc_url=None) and their files."""
    prefix = assets_prefix()
    title = api.title
    openapi_url = api.openapi_url or "/openapi.json"
    api.mount(prefix, CachedStaticFiles(directory=assets_dir(), cache_control=IMMUTABLE), name="docs_assets")

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{prefix}/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
        )

    @api.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{prefix}/redoc.standalone.js",
            redoc_favicon_url=f"{prefix}/favicon.png",
            with_google_fonts=False,
        )
