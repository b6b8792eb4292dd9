"""The `hongbao` command explains itself: one line and a non-zero exit for a store it cannot use, never a traceback;
check-only commands create nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hongbao.cli import app as cli

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HONGBAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("HONGBAO_DATA_DIR", raising=False)


def one_line_error(args: list[str]) -> str:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_reconcile_where_there_is_no_store_creates_neither_folder_nor_schema(tmp_path: Path) -> None:
    folder = tmp_path / "typo-data"
    line = one_line_error(["reconcile", "--data-dir", str(folder)])
    assert "no hongbao store" in line and "creates none" in line
    assert not folder.exists()


def test_reconcile_on_a_database_without_the_schema_creates_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    line = one_line_error(["reconcile", "--database-url", url])
    assert "no hongbao schema" in line
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


@pytest.mark.parametrize("command", ["reconcile", "migrate", "worker"])
def test_an_unreachable_database_is_one_line(command: str) -> None:
    # port 6598 is in this suite's private range: nothing listens there
    line = one_line_error([command, "--database-url", "postgresql://postgres:secret@127.0.0.1:6598/hongbao"])
    assert "cannot reach the database at postgresql://postgres:***@127.0.0.1:6598/hongbao" in line
    assert "secret" not in line


@pytest.mark.parametrize("url", ["notaurl", "nosuchdb://host/x"])
def test_a_bad_database_url_is_one_line(url: str) -> None:
    assert "bad database URL" in one_line_error(["migrate", "--database-url", url])


def test_a_data_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    assert "cannot use the data folder" in one_line_error(["migrate", "--data-dir", str(a_file)])


def test_fairness_says_what_is_wrong_with_a_negative_total() -> None:
    result = runner.invoke(cli, ["fairness", "--total-fen", "-5", "--runs", "10"])
    assert result.exit_code == 2
    assert "Invalid value for '--total-fen'" in result.output and "greater than or equal to 1" in result.output


def test_fairness_with_too_few_fen_for_its_shares_says_so() -> None:
    result = runner.invoke(cli, ["fairness", "--total-fen", "5", "--shares", "10", "--runs", "10"])
    assert result.exit_code == 2
    assert "5 fen cannot make 10 shares" in result.output


def test_plot_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the [plot] extra were not installed
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    line = one_line_error(["fairness", "--runs", "10", "--plot", str(tmp_path / "chart.png")])
    assert "pip install 'hongbao[plot]'" in line
    assert not (tmp_path / "chart.png").exists()


def test_a_setting_that_does_not_parse_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HONGBAO_LOG_LEVEL", "verbose")
    line = one_line_error(["reconcile"])
    assert line.startswith("error: HONGBAO_LOG_LEVEL='verbose'") and "'debug', 'info', 'warning' or 'error'" in line
