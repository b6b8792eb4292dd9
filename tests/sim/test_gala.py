"""`hongbao simulate --gala`: a seeded Gala night through the real shake service ends with a clean audit."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hongbao.cli import app
from hongbao.sim.gala import run_gala


def test_a_gala_night_pays_within_every_pool_and_cap_and_returns_the_rest() -> None:
    night = run_gala(seed=1, users=300, shakes=6_000, win_permille=100)

    assert night.ok, night.violations
    wins = sum(sum(r.values()) for r in night.wins_by_round)
    assert wins > 0 and len(night.wins_by_round) == 4
    assert max(n for n, users in night.wins_per_user.items() if users) <= night.k
    assert sum(night.wins_per_user.values()) == 300
    assert all(p["paid_fen"] + p["returned_fen"] == p["budget_fen"] for p in night.pools)
    assert night.cap_hits > 0  # 10 % of 6,000 shakes by 300 users: many meet K


def test_the_gala_command_prints_its_report_and_draws_its_chart(tmp_path: Path) -> None:
    chart = tmp_path / "gala.png"
    result = CliRunner().invoke(
        app, ["simulate", "--gala", "--seed", "1", "--shakes", "2000", "--users", "200", "--plot", str(chart)]
    )
    assert result.exit_code == 0, result.output
    assert "audit clean" in result.output and "sponsors' pools" in result.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
