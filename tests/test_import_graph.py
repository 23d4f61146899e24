"""The `citystat` packages depend on each other without a cycle (kpi may not import budget when budget imports
kpi): shared pieces live in a neutral module such as citystat.warehouse. Lazy imports inside functions count."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "citystat"


def _unit(module: str) -> str:
    """The node of the graph: the top-level package or module under citystat (citystat.kpi, citystat.warehouse)."""
    return ".".join(module.split(".")[:2])


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from citystat import kpi`
    return {name for name in found if name.startswith("citystat.")}


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    units = {_unit(_module_name(p)) for p in ROOT.rglob("*.py")}
    for path in ROOT.rglob("*.py"):
        source = _unit(_module_name(path))
        targets = {_unit(name) for name in _imports(path)} & units
        graph.setdefault(source, set()).update(targets - {source})
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that starts and ends at the same node, else None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.timeout(120)
def test_citystat_packages_import_each_other_without_a_cycle():
    cycle = find_cycle(package_graph())
    assert cycle is None, "import cycle between citystat packages: " + " -> ".join(cycle)


@pytest.mark.timeout(120)
def test_the_cycle_finder_finds_one():
    assert find_cycle({"citystat.kpi": {"citystat.budget"}, "citystat.budget": {"citystat.kpi"}}) == [
        "citystat.budget", "citystat.kpi", "citystat.budget"]
    assert find_cycle({"citystat.kpi": {"citystat.warehouse"}, "citystat.budget": {"citystat.kpi"}}) is None


# The CLI mounts the demo-city sub-app, and the `demo` command generates a city (lazily, inside the command).
DEMO_CITY_ALLOWED = {("citystat/cli.py", "<module>"), ("citystat/pipeline_cli.py", "demo")}
PRODUCTION = ("citystat", "orchestration", "data_inventory")


def _demo_city_imports(path: Path) -> set[str]:
    """Where ``path`` imports demo_city: '<module>' or the name of the top-level function that does."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    places: set[str] = set()
    for top in tree.body:
        place = top.name if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) else "<module>"
        for node in ast.walk(top):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "demo_city" or n.startswith("demo_city.") for n in names):
                places.add(place)
    return places


@pytest.mark.timeout(120)
def test_production_code_does_not_import_the_demo_city():
    repo = ROOT.parent
    offenders = [f"{path.relative_to(repo)} ({place})"
                 for package in PRODUCTION for path in sorted((repo / package).rglob("*.py"))
                 for place in _demo_city_imports(path)
                 if (str(path.relative_to(repo)), place) not in DEMO_CITY_ALLOWED]
    assert not offenders, "production code imports demo_city: " + ", ".join(offenders)
