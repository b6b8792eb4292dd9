"""`hongbao worker --once` closes campaigns that ended while nothing ran and returns their unspent budget."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from hongbao.bootstrap import build
from hongbao.cli import app as cli
from hongbao.service.reconcile import reconcile
from tests.campaign.conftest import make_enterprise, register_many
from tests.conftest import FrozenClock, fast_settings


def test_worker_once_returns_the_unspent_budget_of_an_ended_campaign(tmp_path: Path) -> None:
    # given a campaign that ran two days ago for a day and paid one prize
    clock = FrozenClock(datetime.now(UTC) - timedelta(days=2))
    app = build(fast_settings(data_dir=tmp_path), clock=clock)
    try:
        corp = make_enterprise(app, "corp", 10_000)
        (alice,) = register_many(app, "alice", 1)
        campaign = asyncio.run(
            app.campaigns.create(
                corp, channel="link", name="新春", starts_at=clock.now(), ends_at=clock.now() + timedelta(days=1),
                budget_fen=1_000, prizes=[{"kind": "cash", "amount_fen": 100}],
            )
        )  # fmt: skip
        asyncio.run(app.campaigns.claim(campaign["id"], alice, token=campaign["link_token"]))
    finally:
        app.close()
    # when the worker runs once
    result = CliRunner().invoke(cli, ["worker", "--once", "--data-dir", str(tmp_path)])
    # then the campaign is closed and its 9 yuan are back with the enterprise
    assert result.exit_code == 0, result.output
    assert "closed 1 campaign(s)" in result.output
    app = build(fast_settings(data_dir=tmp_path))
    try:
        assert asyncio.run(app.wallet.balance(corp)) == 10_000 - 100
        assert asyncio.run(app.campaigns.detail(campaign["id"], corp))["status"] == "closed"
        assert reconcile(app.store).violations == []
    finally:
        app.close()
