"""Imports run one way (see the README's tree): the entry points in `repere/` on top, then `web/` (which
may use `evals/` for the trainers' eval runs), `evals/`, then the pipeline (`assistant/`, `retrieval/`,
`prompts/`, `corpus/`). A module never imports a layer above its own; the only exception is the tuners'
command-line `main()` functions, which build their retriever through `repere.service` inside the function."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

# Each package, and the packages it must not import.
ABOVE = {
    "corpus": {"retrieval", "assistant", "prompts", "web", "evals", "repere"},
    "retrieval": {"assistant", "web", "evals", "repere"},
    "prompts": {"assistant", "web", "evals", "repere"},
    "assistant": {"web", "evals", "repere"},
    "evals": {"web", "repere"},
    "web": {"repere"},
}


def imported(path: Path) -> list[tuple[str, str]]:
    """(top package imported, enclosing function name or "") of every import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Import):
                found.extend((alias.name.split(".")[0], function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module.split(".")[0], function))
            visit(child, name)

    visit(tree, "")
    return found


def test_imports_run_one_way() -> None:
    wrong = []
    for package, above in ABOVE.items():
        for path in (ROOT / package).rglob("*.py"):
            for top, function in imported(path):
                tuner_main = package == "evals" and top == "repere" and function == "main"
                if top in above and not tuner_main:
                    wrong.append(f"{path.relative_to(ROOT)} imports {top}")
    assert wrong == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from repere.settings import Settings\n\ndef main():\n    import web.app\n")
    assert imported(module) == [("repere", ""), ("web", "main")]
