"""Imports go one way: no module of the package imports, however indirectly, a module that
imports it back.

Every import counts, including those inside functions and under ``if TYPE_CHECKING:``: a
deferred import is how a cycle hides, and a type-only one still ties the two modules together
(issue 14 found the sandboxes' dispatcher and its ten handlers, the GetResponse sandbox's
service, routes, control and seed data, and the Dataverse client and its paginator importing
each other). The sandboxes follow moto: state and rules -> handlers -> routes.

``from pkg import mod`` is an edge to ``pkg.mod``; ``from pkg import name`` (a name defined or
re-exported by ``pkg/__init__.py``) is an edge to ``pkg``. Importing a submodule runs its
package's ``__init__`` first, but that is not counted as an import of the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reconcile

PACKAGE_DIR = Path(reconcile.__file__).parent


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``root`` (``package`` itself)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` (in ``path``) imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if target in known:
                    found.add(target)
                elif source in known:
                    found.add(source)
    found.discard(name)
    return found


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    known = module_names(root, package)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each
    as one cycle through it, so a failure shows the way round."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(_loop(graph, set(component)))
    return components


def _loop(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    first = min(members)
    paths = {first: [first]}
    queue = [first]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == first:
                return [*paths[node], first]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError("a strongly connected component without a cycle")


def test_the_package_has_no_import_cycle() -> None:
    found = cycles(import_graph(PACKAGE_DIR, "reconcile"))
    assert not found, "import cycles (move what both sides need into a module below them):\n" + (
        "\n".join(" -> ".join(loop) for loop in found)
    )


def test_the_graph_sees_the_sandbox_layers() -> None:
    """The walk reads the real package: the dispatcher reaches handlers, handlers the state."""
    graph = import_graph(PACKAGE_DIR, "reconcile")
    dv = "reconcile.sandbox.dataverse"
    assert f"{dv}.entityset" in graph[f"{dv}.dispatch"]
    assert f"{dv}.service" in graph[f"{dv}.entityset"]  # a TYPE_CHECKING import
    assert f"{dv}.service" not in graph[f"{dv}.store"]
    gr = "reconcile.sandbox.getresponse"
    assert f"{gr}.account" in graph[f"{gr}.routes"]
    assert {f"{gr}.routes", f"{gr}.control"} <= graph[f"{gr}.service"]


@pytest.mark.parametrize(
    ("where", "line"),
    [
        ("top", "from pkg import b"),
        ("function", "def f():\n    from pkg.b import thing\n    return thing"),
        ("type-checking", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.b"),
        ("relative", "from . import b"),
        ("via the package", "from pkg import exported"),
    ],
)
def test_a_cycle_is_found_wherever_the_import_is(tmp_path: Path, where: str, line: str) -> None:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text(
        "from pkg.b import exported\n" if where == "via the package" else ""
    )
    (root / "a.py").write_text(line + "\n")
    (root / "b.py").write_text("from pkg.a import something\nexported = 1\n")
    graph = import_graph(root, "pkg")
    found = cycles(graph)
    assert found, graph
    assert "pkg.a" in found[0]
    assert found[0][0] == found[0][-1]


def test_no_cycle_in_a_layered_package(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("from pkg.routes import app\n")
    (root / "state.py").write_text("x = 1\n")
    (root / "handlers.py").write_text("from pkg import state\n")
    (root / "routes.py").write_text("from pkg.handlers import state\napp = 1\n")
    assert cycles(import_graph(root, "pkg")) == []
