"""/docs and /redoc in Chromium with every request to another origin refused: they render from this server's own
files (api/docs.py) under their CSP, and Swagger UI's Authorize button offers the bearer scheme."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_csp import violations, watch


def offline(context: Any, base_url: str) -> list[str]:
    """Refuse (and list) every request that leaves this server: the internet is not there."""
    outside: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(base_url) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return outside


def test_swagger_ui_renders_offline_and_authorize_offers_the_bearer_scheme(browser: Any, base_url: str) -> None:
    context = browser.new_context(base_url=base_url)
    try:
        errors = watch(context)
        outside = offline(context, base_url)
        page = context.new_page()
        page.goto("/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "hongbao" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector("#operations-packets-packets_open")  # operation ids in the page's anchors
        page.click("button.authorize")
        page.wait_for_selector(".auth-container")
        assert "bearer" in page.inner_text(".auth-container")
        assert outside == [] and violations(page) == [] and errors == []
    finally:
        context.close()


def test_redoc_renders_offline(browser: Any, base_url: str) -> None:
    context = browser.new_context(base_url=base_url)
    try:
        errors = watch(context)
        outside = offline(context, base_url)
        page = context.new_page()
        page.goto("/redoc")
        page.wait_for_selector("h1")
        assert "hongbao" in page.inner_text("h1")
        # ReDoc's "by Redocly" logo names its maker's CDN; the CSP refuses it (img-src 'self' data:), so nothing
        # leaves the browser, and the page is whole without it.
        logo = "cdn.redoc.ly"
        assert outside == []
        assert [v for v in violations(page) if logo not in v] == []
        assert [e for e in errors if logo not in e] == []
    finally:
        context.close()
