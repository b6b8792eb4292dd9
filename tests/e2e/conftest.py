"""Fixtures for the browser tests: one `hongbao serve` with demo data for the session, Chromium, logged-in pages.

Chromium is Debian's package at /usr/bin/chromium (HONGBAO_CHROMIUM to override) driven by Playwright;
where either is missing the tests skip with the reason, except under CI=true where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_missing
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, PHONE, running_server

PASSWORD = "hongbao123"


@pytest.fixture(scope="package")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's URL; when the e2e tests are done the server stops and its ledger is reconciled."""
    data_dir: Path = tmp_path_factory.mktemp("e2e")
    with running_server(data_dir) as base:
        yield base
    from hongbao.bootstrap import build
    from hongbao.config import Settings
    from hongbao.service.reconcile import reconcile

    app = build(Settings(data_dir=data_dir, demo=False, scheduler=False))
    try:
        report = reconcile(app.store)
    finally:
        app.close()
    assert report.violations == [], "\n".join(map(str, report.violations))


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is open,
# so it must be closed before the suites after tests/e2e call asyncio.run.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        service_missing("Chromium", f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        service_missing("Playwright", f"{exc} (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def phone(browser: Any, base_url: str) -> Iterator[Callable[[str], Any]]:
    """Factory: `phone("alice")` is a new phone-sized browser context logged in as that demo user."""
    contexts: list[Any] = []

    def open_as(username: str) -> Any:
        context = browser.new_context(viewport=PHONE, locale="en-US", base_url=base_url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/app/login")
        page.click(f"button[data-username={username}]")
        page.wait_for_selector("#groups")
        return page

    yield open_as
    for context in contexts:
        context.close()
