"""The layout holds: modules follow the data flow (none imports a later stage), no import
cycle, no module over 400 lines, and tests share code through tests/support only. Read from
the source with `ast`; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

from support.common import ROOT

PACKAGE = ROOT / "src" / "cronspec"

# The data flow, earliest first: a module may import its own stage and earlier ones only.
STAGES: list[set[str]] = [
    {"diagnostics"},
    {"spec"},
    {"schedule"},
    {"model"},
    {"load"},
    {"validate"},
    {"classify"},
    {"plan"},
    {"status"},
    {"render"},
    {"importer"},  # existing jobs and crontabs to specs, checked by the stages above
    {"queryplan"},  # plan --explain: what to EXPLAIN, and the plans read (db/ runs EXPLAIN)
    {"output", "db", "scaffold"},
    {"api"},
    {"cli", "__main__", "__init__"},
]
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    """Dotted names under cronspec (a package by its own name) to their files."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """The cronspec modules `name` imports, anywhere in the file (lazy imports too)."""
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "__init__":
        here = []
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = here[: len(here) - (node.level - 1)]
            target = [*base, *(node.module.split(".") if node.module else [])]
        elif node.module and node.module.split(".")[0] == "cronspec":
            target = node.module.split(".")[1:]
        else:
            continue
        found.add(".".join(target))
        found.update(".".join([*target, alias.name]) for alias in node.names)
    modules = _modules()
    return {m for m in found if m in modules and m != name}


def _stage(name: str) -> int:
    top = name.split(".")[0]
    for index, members in enumerate(STAGES):
        if top in members:
            return index
    raise AssertionError(f"cronspec.{name} is in no stage of tests/test_layout.py: place it")


def test_no_module_imports_a_later_stage() -> None:
    late = []
    for name, path in _modules().items():
        for imported in _imports(name, path):
            if _stage(imported) > _stage(name):
                late.append(f"{name} imports {imported}")
    assert late == []


def test_no_import_cycle() -> None:
    graph = {name: _imports(name, path) for name, path in _modules().items()}
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in trail:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in done:
                visit(nxt, [*trail, nxt])
        done.add(node)

    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    assert cycles == []


def test_no_module_is_over_400_lines() -> None:
    long = {
        path.relative_to(PACKAGE).as_posix(): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_test_modules_share_code_through_support_only() -> None:
    """What tests share lives in tests/support; no test module imports conftest or another."""
    tests = ROOT / "tests"
    own = {path.stem for path in tests.glob("*.py")}
    found = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in own]
    assert found == []
