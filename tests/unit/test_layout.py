"""The map of the code (docs/development.md) lists every module, no two modules import each other
(directly or round a longer loop), and bench shares the tests' helpers."""

from __future__ import annotations

import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def modules() -> list[str]:
    found = []
    for package in ("bot", "handlers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or path.name == "__init__.py":
                continue
            found.append(relative)
    return found


def test_the_map_of_the_code_names_every_module_or_its_package():
    section = (ROOT / "docs" / "development.md").read_text()
    listed = set(re.findall(r"^((?:bot|handlers)/[\w/.]*)", section, flags=re.MULTILINE))
    missing = [
        m
        for m in modules()
        if m not in listed and not any(m.startswith(p) for p in listed if p.endswith("/"))
    ]
    assert not missing, f"not in the map of docs/development.md: {missing}"


def import_cycles() -> set[tuple[str, ...]]:
    """Every loop of imports between modules of ``bot`` and ``handlers``, each as the
    shortest way round from an import back to the importing module."""
    graph = grimp.build_graph("bot", "handlers")
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.add((importer, *back))
    return cycles


def test_no_module_imports_itself_round_a_loop():
    new = sorted(import_cycles())
    assert not new, "import cycles: " + "; ".join(" -> ".join(c) for c in new)


def test_bench_shares_the_tests_helpers_and_the_product_imports_neither():
    """bench takes its helpers from tests.support (one copy each), never from a test
    module; bot and handlers import neither tests nor bench."""
    for path in (ROOT / "bench").glob("*.py"):
        imported = re.findall(r"^\s*(?:from|import) (tests\b[\w.]*)", path.read_text(), re.M)
        assert all(name.startswith("tests.support") for name in imported), (path, imported)
    for package in ("bot", "handlers"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            assert not re.search(r"^\s*(from|import) (tests|bench)\b", text, re.M), path
