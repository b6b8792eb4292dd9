"""The README's settings table is the one `Settings` generates: every HONGBAO_* setting, its default and meaning."""

from __future__ import annotations

from pathlib import Path

from hongbao.config import Settings
from hongbao.settings_doc import readme_block, rows, table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_settings_table_matches_settings() -> None:
    assert readme_block(README.read_text(encoding="utf-8")) == table(), (
        "README.md's settings table is out of date: run `python -m hongbao.settings_doc --write README.md`"
    )


def test_every_setting_has_a_row_with_a_meaning() -> None:
    documented = {variable: meaning for _, variable, _, meaning in rows()}
    assert set(documented) == {f"HONGBAO_{name.upper()}" for name in Settings.model_fields}
    assert [v for v, meaning in documented.items() if not meaning] == []
