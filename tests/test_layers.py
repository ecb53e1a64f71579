"""The folder tree is the architecture: the core (`cfai`) names no framework and no adapter, and neither adapter
names the other. Checked on the source, imports inside functions included, so a lazy import cannot slip through."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FRAMEWORKS = ("langchain", "langchain_core", "llama_index")
FORBIDDEN = {
    "cfai": (*FRAMEWORKS, "langchain_cfai", "llamaindex_cfai"),
    "langchain_cfai": ("llamaindex_cfai", "llama_index"),
    "llamaindex_cfai": ("langchain_cfai", "langchain", "langchain_core"),
}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("package", list(FORBIDDEN))
def test_a_package_imports_nothing_from_the_layers_it_must_not_know(package: str) -> None:
    sources = sorted((ROOT / package).rglob("*.py"))
    assert sources
    crossings = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources
        for module in sorted(imported_modules(path))
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert crossings == []
