"""The layering issue 12 asks for: nothing in `adapters/` imports from `service/` except its ports (the Protocols
the store implements), so a store or a Redis adapter never reaches into a use case."""

from __future__ import annotations

import ast
from pathlib import Path

import hongbao

ADAPTERS = Path(hongbao.__file__).parent / "adapters"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_adapters_import_only_the_service_ports() -> None:
    sources = sorted(ADAPTERS.rglob("*.py"))
    assert len(sources) > 20  # the folder is where this test thinks it is
    wrong = [
        f"{path.relative_to(ADAPTERS.parent)}: {module}"
        for path in sources
        for module in _imports(path)
        if (module == "hongbao.service" or module.startswith("hongbao.service."))
        and not (module == "hongbao.service.ports" or module.startswith("hongbao.service.ports."))
    ]
    assert wrong == []


def test_hooks_and_audiences_are_wired_in_bootstrap_not_in_constructors() -> None:
    """Who listens to which packet event is read in one place (bootstrap.py), not found by reading every
    constructor: no use case appends itself to `deps.hooks` or registers an audience."""
    service = ADAPTERS.parent / "service"
    wiring = []
    for path in sorted(service.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            target = ast.unparse(node.func)
            hook = target.endswith(".append") and (".hooks." in target or "on_budget_changed" in target)
            if hook or target.endswith(".register_audience"):
                wiring.append(f"{path.name}:{node.lineno}: {target}")
    assert wiring == []
    bootstrap = (ADAPTERS.parent / "bootstrap.py").read_text(encoding="utf-8")
    assert bootstrap.count("hooks.") >= 15 and "register_audience" in bootstrap
