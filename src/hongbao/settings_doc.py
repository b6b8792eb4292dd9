"""The README's table of HONGBAO_* settings, generated from `Settings` and the comments beside its fields.

`python -m hongbao.settings_doc` prints the table; `--write README.md` replaces the block between the README's
`<!-- settings:start -->` and `<!-- settings:end -->` markers; tests/unit/test_settings_doc.py fails when the
README's block differs from what `Settings` says (a setting added without its row, a default changed).

A field's meaning is its `Field(description=…)`, else its trailing comment, else the comment lines right above
it; a comment block after a blank line opens a section (a bold row).
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path
from typing import Any

from hongbao import config
from hongbao.config import Settings

START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def _comments(source: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


def _default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "")
    return str(value)


def rows() -> list[tuple[str | None, str, str, str]]:
    """(section or None, variable, default, meaning) for every field of Settings, in source order."""
    source = Path(config.__file__).read_text(encoding="utf-8")
    lines = source.splitlines()
    comments = _comments(source)
    klass = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    out: list[tuple[str | None, str, str, str]] = []
    for node in klass.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name = node.target.id
        if name == "model_config":
            continue
        field = Settings.model_fields[name]
        above: list[str] = []
        line = node.lineno - 1  # 1-based line numbers: lines[line - 1] is the line above the field
        while line >= 1 and lines[line - 1].strip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        opens_section = above and line >= 1 and not lines[line - 1].strip()
        section = " ".join(above) if opens_section else None
        own = [comments[n] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1) if n in comments]
        meaning = field.description or " ".join(own) or ("" if opens_section else " ".join(above))
        out.append((section, f"HONGBAO_{name.upper()}", _default(field.default), meaning))
    return out


def table() -> str:
    text = ["| variable | default | meaning |", "|---|---|---|"]
    for section, variable, default, meaning in rows():
        if section:
            text.append(f"| **{section.rstrip('.')}** | | |")
        cell = meaning.replace("|", "\\|")
        text.append(f"| `{variable}` | `{default}` | {cell} |")
    return "\n".join(text) + "\n"


def readme_block(readme: str) -> str:
    """The README's generated block (between the markers), or '' when the markers are missing."""
    if START not in readme or END not in readme:
        return ""
    return readme.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(readme_path: Path) -> None:
    readme = readme_path.read_text(encoding="utf-8")
    head, rest = readme.split(START, 1)
    tail = rest.split(END, 1)[1]
    readme_path.write_text(f"{head}{START}\n{table()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    if sys.argv[1:2] == ["--write"]:
        write(Path(sys.argv[2]))
    else:
        print(table(), end="")
