"""Security headers (api/security.py): a CSP the pages pass, nosniff, no framing, no referrer, on every answer."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.conftest import TestClient
from tests.conftest import fast_settings

from hongbao.api.app import create_app
from hongbao.api.security import inline_hashes
from hongbao.bootstrap import build


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """SQLite only: headers do not depend on the store."""
    app = build(fast_settings(database_url=f"sqlite:///{tmp_path / 'hongbao.db'}", data_dir=tmp_path))
    try:
        with TestClient(create_app(app, scheduler=False)) as test_client:
            yield test_client
    finally:
        app.close()


def csp_of(response: object) -> dict[str, list[str]]:
    header: str = response.headers["content-security-policy"]  # type: ignore[attr-defined]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("path", ["/", "/app/wallet", "/health", "/v1/me", "/static/js/main.js", "/s/no-such-token"])
def test_every_answer_says_nosniff_no_referrer_and_may_not_be_framed(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert csp_of(response)["frame-ancestors"] == ["'none'"]


def test_the_app_page_runs_only_this_origin_s_scripts_and_styles(client: TestClient) -> None:
    csp = csp_of(client.get("/app"))

    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["default-src"]


def test_api_answers_get_a_csp_that_allows_nothing(client: TestClient) -> None:
    refused = client.get("/v1/me")

    assert refused.status_code == 401
    assert csp_of(refused)["default-src"] == ["'none'"]
    assert csp_of(client.get("/health"))["default-src"] == ["'none'"]


def test_a_rendered_page_s_inline_style_is_allowed_by_its_hash_and_nothing_else_inline(client: TestClient) -> None:
    # given the landing page of a link that leads nowhere (rendered HTML with an inline <style>)
    response = client.get("/s/no-such-token")
    style = re.search(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert style

    csp = csp_of(response)

    assert csp["style-src"] == ["'self'", sha256_source(style.group(1))]
    assert csp["script-src"] == ["'self'"]


def test_inline_hashes_name_inline_scripts_and_styles_but_not_scripts_loaded_by_src() -> None:
    page = b"<script src='/x.js'></script><script>run()</script><STYLE media=all>p{}</STYLE><p>text</p>"

    scripts, styles = inline_hashes(page)

    assert scripts == [sha256_source("run()")]
    assert styles == [sha256_source("p{}")]


def test_swagger_ui_at_docs_loads_only_this_origin_and_runs_its_own_inline_script(client: TestClient) -> None:
    response = client.get("/docs")
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert inline and re.findall(r"<script src=\"/", response.text)

    csp = csp_of(response)

    assert csp["script-src"] == ["'self'", *(sha256_source(s) for s in inline)]
    assert not [source for sources in csp.values() for source in sources if "://" in source]  # no other origin
    assert "'unsafe-inline'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_images_stay_embeddable(client: TestClient) -> None:
    icon = client.get("/static/icon.svg")

    assert icon.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in icon.headers
    assert "content-security-policy" not in icon.headers
