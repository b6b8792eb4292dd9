"""The `hongbao` command as a person runs it: demo, fairness, migrate, reconcile and worker."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from hongbao.bootstrap import App, build
from hongbao.cli import app as cli
from hongbao.demo import Story, family_joins, run_demo
from hongbao.service.reconcile import reconcile
from tests.conftest import FrozenClock, _reset_postgres, fast_settings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The commands read HONGBAO_* variables; a URL set in the shell must not redirect these tests.
    monkeypatch.delenv("HONGBAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("HONGBAO_DATA_DIR", raising=False)


def given_a_lucky_packet_half_opened(app: App) -> tuple[int, int]:
    """Alice sends 100.00 in 4 lucky shares to a group of three, Bob opens one; return (alice, packet)."""

    async def go() -> tuple[int, int]:
        alice, bob, carol = [await app.users.register(n, "correct horse battery") for n in ("alice", "bob", "carol")]
        await app.wallet.top_up(alice, 50_000)
        for other in (bob, carol):
            await app.social.request_friend(alice, other)
            await app.social.accept_friend(other, alice)
        group = await app.social.create_group(alice, "family", [bob, carol])
        sent = await app.packets.send_group(alice, group["id"], how="double_mean", shares_count=4, total_fen=10_000)
        await app.packets.open(sent["id"], bob)
        return alice, sent["id"]

    return asyncio.run(go())


def corrupt_a_wallet(url: str, user_id: int) -> None:
    """Change a cached balance behind the ledger's back, as a bad manual fix would."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE accounts SET balance_fen = balance_fen + 1 WHERE kind = 'wallet' AND owner_id = :u"),
            {"u": user_id},
        )
    engine.dispose()


# ---------------------------------------------------------------------- demo


def test_demo_tells_the_festival_story_and_ends_with_a_clean_reconcile() -> None:
    result = runner.invoke(cli, ["demo"])

    assert result.exit_code == 0, result.output
    assert "手气最佳" in result.output
    for code in ("already_claimed", "packet_exhausted", "idempotency_key_reused", "packet_expired"):
        assert code in result.output
    assert "reconcile: clean" in result.output


def test_demo_whose_ledger_breaks_gives_false_and_prints_the_violation() -> None:
    async def a_bad_manual_fix(story: Story) -> None:
        sql = text("UPDATE accounts SET balance_fen = balance_fen + 1 WHERE kind = 'wallet' AND owner_id = :u")
        await story.app.store.write(lambda tx: tx.conn.execute(sql, {"u": story.ids["ming"]}))

    out = io.StringIO()

    ok = run_demo(Console(file=out, width=120), scenes=[family_joins, a_bad_manual_fix])

    assert ok is False
    assert "cached-balance" in out.getvalue()
    assert "reconcile: clean" not in out.getvalue()


# ---------------------------------------------------------------------- fairness


def test_fairness_gives_one_row_per_grab_position() -> None:
    result = runner.invoke(
        cli,
        [
            "fairness",
            "--total-fen",
            "10000",
            "--shares",
            "10",
            "--runs",
            "2000",
            "--algorithm",
            "double-mean",
            "--seed",
            "1",
        ],
    )

    assert result.exit_code == 0, result.output
    positions = re.findall(r"^│\s*(\d+)\s*│", result.output, flags=re.MULTILINE)
    assert positions == [str(p) for p in range(1, 11)]


def test_fairness_with_plot_writes_a_png_chart(tmp_path: Path) -> None:
    chart = tmp_path / "f.png"

    result = runner.invoke(
        cli,
        ["fairness", "--shares", "5", "--runs", "500", "--algorithm", "line-cut", "--seed", "2", "--plot", str(chart)],
    )

    assert result.exit_code == 0, result.output
    assert chart.read_bytes()[:8] == PNG_SIGNATURE


def test_fairness_with_an_unknown_algorithm_exits_2_and_names_the_choices() -> None:
    result = runner.invoke(cli, ["fairness", "--algorithm", "fair-dice", "--runs", "10"])

    assert result.exit_code == 2
    assert "fair-dice" in result.output
    assert "double-mean" in result.output


def test_fairness_with_zero_shares_exits_2_and_names_the_option() -> None:
    result = runner.invoke(cli, ["fairness", "--shares", "0", "--runs", "10"])

    assert result.exit_code == 2
    assert "Invalid value for '--shares'" in result.output


# ---------------------------------------------------------------------- migrate and reconcile (SQLite)


def test_migrate_creates_the_sqlite_store_in_the_data_folder(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["migrate", "--data-dir", str(tmp_path / "data")])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "hongbao.db").is_file()


def test_reconcile_gives_clean_then_names_the_cached_balance_a_raw_update_broke(tmp_path: Path) -> None:
    app = build(fast_settings(data_dir=tmp_path), clock=FrozenClock())
    try:
        alice, _ = given_a_lucky_packet_half_opened(app)
    finally:
        app.close()
    clean = runner.invoke(cli, ["reconcile", "--data-dir", str(tmp_path)])

    corrupt_a_wallet(f"sqlite:///{tmp_path / 'hongbao.db'}", alice)
    dirty = runner.invoke(cli, ["reconcile", "--data-dir", str(tmp_path)])

    assert clean.exit_code == 0, clean.output
    assert "ledger clean" in clean.output
    assert dirty.exit_code == 1, dirty.output
    assert "cached-balance" in dirty.output
    assert "stored 40001" in dirty.output
    assert "ledger clean" not in dirty.output


# ---------------------------------------------------------------------- worker


def test_worker_once_refunds_a_packet_that_expired_while_nothing_ran(tmp_path: Path) -> None:
    # Sent two days ago: its 24 h are over at the real time the worker reads.
    app = build(fast_settings(data_dir=tmp_path), clock=FrozenClock(datetime.now(UTC) - timedelta(days=2)))
    try:
        alice, packet = given_a_lucky_packet_half_opened(app)
        opened = asyncio.run(app.packets.detail(packet, alice))["claimed_fen"]
    finally:
        app.close()

    result = runner.invoke(cli, ["worker", "--once", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "expired 1 packet(s)" in result.output
    app = build(fast_settings(data_dir=tmp_path))
    try:
        assert asyncio.run(app.wallet.balance(alice)) == 50_000 - opened
        assert asyncio.run(app.packets.detail(packet, alice))["status"] == "expired"
        assert reconcile(app.store).violations == []
    finally:
        app.close()


# ---------------------------------------------------------------------- reconcile (PostgreSQL)


@pytest.mark.postgres
def test_reconcile_on_postgres_gives_clean_then_exit_1_after_a_raw_update(pg_database: str, tmp_path: Path) -> None:
    _reset_postgres(pg_database)
    app = build(fast_settings(database_url=pg_database, data_dir=tmp_path), clock=FrozenClock())
    try:
        alice, _ = given_a_lucky_packet_half_opened(app)
    finally:
        app.close()
    try:
        clean = runner.invoke(cli, ["reconcile", "--database-url", pg_database])

        corrupt_a_wallet(pg_database, alice)
        dirty = runner.invoke(cli, ["reconcile", "--database-url", pg_database])
    finally:
        _reset_postgres(pg_database)  # leave no broken ledger to the next test on this database

    assert clean.exit_code == 0, clean.output
    assert "ledger clean" in clean.output
    assert dirty.exit_code == 1, dirty.output
    assert "cached-balance" in dirty.output
    assert "stored 40001" in dirty.output


def test_python_dash_m_hongbao_is_the_hongbao_command() -> None:
    """`hongbao up` starts its processes with `python -m hongbao` where no `hongbao` script sits beside the
    interpreter; `python -m hongbao.cli` failed there on a circular import."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "hongbao", "--help"], capture_output=True, text=True, timeout=60,
                          check=False)

    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout and "reconcile" in done.stdout
