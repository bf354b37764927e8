"""The map of the code holds: imports point down the layers and never round in a circle,
and no module or function grows past what a newcomer can read in one go.

Layers, top to bottom (README, "Layout"):

    radar      the application shell: settings are read, logging set up, the `crawl` CLI
    scheduler  daemon, jobs, notifications, the editors' web workspace
    crawler    Scrapy: source kinds, spiders, middlewares, pipelines, extraction, replay
    desk       the editors' judgement: verdicts, tagging, past report issues
    storage    models, engine and sessions, migrations, queries — SQL only
    common     small helpers every layer may use (dates, text, URLs, escaping, YAML files)

A module may import its own layer and any layer below it. The import graph is read from the
source with `ast`, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["common", "storage", "desk", "crawler", "scheduler", "radar"]  # bottom to top
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
# A function may run longer when a comment in its first lines starts with this and says why.
LONG_REASON = "# Long because"
# Alembic data migrations run the algorithm of their day (0006 re-signs items with the MinHash
# of desk/similarity.py); they are the one place storage reaches up, and only when run.
EXEMPT_FROM_LAYERS = ("storage.migrations.versions.",)


def _modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that ``name`` imports (``from pkg import mod`` counts as importing ``pkg.mod``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets.add(base)
            targets |= {f"{base}.{alias.name}" for alias in node.names}
    return {t for t in targets if t in modules and t != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in _graph().items() if not module.startswith(EXEMPT_FROM_LAYERS)
        for target in sorted(targets) if _layer(target) > _layer(module)
    ]
    assert not upward, "imports that point up a layer:\n" + "\n".join(sorted(upward))


def test_storage_and_common_import_no_domain_code() -> None:
    # Stated on its own because it is the rule most easily broken "just once".
    graph = _graph()
    for module, targets in graph.items():
        if module.startswith(("storage", "common")) and not module.startswith(EXEMPT_FROM_LAYERS):
            assert all(t.split(".")[0] in ("storage", "common") for t in targets), module


def test_no_import_cycles() -> None:
    graph = _graph()
    # A package's __init__ is imported by every module below it; only its own imports count.
    cycles = _cycles({m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()})
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_modules_stay_readable() -> None:
    long = [f"{path.relative_to(ROOT)}: {n} lines" for path in _modules().values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(sorted(long))


def test_long_functions_say_why() -> None:
    unexplained = []
    for path in _modules().values():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                head = lines[node.lineno - 1: node.lineno + 5]
                if length > MAX_FUNCTION_LINES and not any(LONG_REASON in line for line in head):
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    assert not unexplained, (
        f"functions over {MAX_FUNCTION_LINES} lines without a `{LONG_REASON} …` comment:\n" + "\n".join(sorted(unexplained))
    )


def test_the_layers_are_what_the_project_installs() -> None:
    # A new top-level package must be placed in LAYERS, or the checks above would not see it.
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {"tests", "bench", "watchlists"} == set(LAYERS)


def test_the_graph_reader_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from storage import db\n    import common.dates\n", encoding="utf-8")
    found = _imports("crawler.probe", module, {"storage.db": module, "storage": module, "common.dates": module})
    assert found == {"storage", "storage.db", "common.dates"}
