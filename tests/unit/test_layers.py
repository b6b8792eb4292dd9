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
