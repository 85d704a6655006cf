"""The import rules, checked on the real import graph (grimp, as import-linter builds it).

`make lint` runs the layers contract itself (`lint-imports`, pyproject.toml). These tests add what
the contract cannot say: every module of the project sits in some layer (a new module is not
left unchecked by omission), and no import cycle exists anywhere, at any depth.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mesoclinic", "patients", "treatments")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return [
        [name.strip() for name in layer.replace("|", ":").split(":") if name.strip()]
        for layer in contract["layers"]
    ]


def _layer_modules() -> list[str]:
    return [name for layer in _layers() for name in layer]


def _is_test_or_migration(module: str) -> bool:
    parts = module.split(".")
    return "tests" in parts or "migrations" in parts


def _strongly_connected(graph: grimp.ImportGraph, modules: set[str]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively; only components of two or more modules are cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    imported = graph.find_modules_directly_imported_by(child) & modules
                    work.append((child, iter(sorted(imported))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_every_module_of_the_project_sits_in_a_layer(graph):
    listed = _layer_modules()
    bottom = set(_layers()[-1])
    unplaced = []
    for module in sorted(graph.modules):
        if _is_test_or_migration(module):
            continue
        inside = any(module == name or module.startswith(name + ".") for name in listed)
        # A package that only holds layered modules (treatments, treatments.clinical) is fine
        # as long as its __init__ imports nothing above the bottom layer (mesoclinic's
        # __init__ loads the Celery app, as Celery's Django set-up asks).
        holder = any(name.startswith(module + ".") for name in listed)
        if inside or (holder and graph.find_modules_directly_imported_by(module) <= bottom):
            continue
        unplaced.append(module)
    assert unplaced == [], (
        "modules outside every layer of pyproject.toml's import contract: " + ", ".join(unplaced)
    )


def test_every_layer_entry_names_a_module_that_exists(graph):
    missing = [name for name in _layer_modules() if name not in graph.modules]
    assert missing == []


def test_the_import_graph_has_no_cycle(graph):
    modules = {m for m in graph.modules if "migrations" not in m.split(".")}
    assert _strongly_connected(graph, modules) == []


def test_the_cycle_check_finds_a_cycle():
    # The check itself can fail: a graph with a two-module circle is reported.
    fake = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        fake.add_module(name)
    fake.add_import(importer="pkg.a", imported="pkg.b")
    fake.add_import(importer="pkg.b", imported="pkg.a")
    fake.add_import(importer="pkg.c", imported="pkg.a")
    assert _strongly_connected(fake, {"pkg.a", "pkg.b", "pkg.c"}) == [{"pkg.a", "pkg.b"}]
