"""The `sidecar` package's import graph: no cycles, and the light modules stay light.

Read statically with `ast`, every import counts, the ones inside functions too: a cycle that only
closes at run time is still a cycle, and a lazy `import torch` in protocol parsing would still load it.
`python tests/test_import_graph.py` prints the graph.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sidecar"

# Protocol parsing does not import torch; the proxy knows no models; settings, errors and image decoding
# neither. cn_clip imports torch and rapidocr imports onnxruntime, so they count as the runtimes they load.
LIGHT_MODULES = ("sidecar.protocol", "sidecar.proxy", "sidecar.config", "sidecar.errors", "sidecar.images")
MODEL_RUNTIMES = ("torch", "onnxruntime", "cn_clip", "rapidocr")


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _imports(module: str, path: Path, known: set[str]) -> tuple[set[str], set[str]]:
    """(modules of the package it imports, top-level names of other packages it imports)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    internal: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from pkg import name` imports the module pkg.name when there is one, else pkg itself.
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "sidecar":
                # `import sidecar.a.b` binds the top package; what runs is sidecar.a.b (and its parents).
                while target not in known:
                    target = target.rpartition(".")[0]
                internal.add(target)
            else:
                external.add(target.split(".")[0])
    internal.discard(module)
    return internal, external


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module -> package modules it imports, module -> other top-level packages it imports)."""
    names = module_names()
    graph, external = {}, {}
    for module, path in names.items():
        graph[module], external[module] = _imports(module, path, set(names))
    return graph, external


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_graph_sees_function_level_imports():
    graph, external = import_graph()
    assert "sidecar.app" in graph["sidecar.cli"]  # imported inside serve(), in each gunicorn worker
    assert "torch" in external["sidecar.models.clip"]  # imported inside the methods that need it
    assert {"sidecar.state", "sidecar.routes.immich"} <= graph["sidecar.app"]


def test_no_import_cycles():
    cycles = find_cycles(import_graph()[0])
    assert not cycles, f"import cycles in sidecar: {cycles}"


def test_light_modules_import_no_model_runtime():
    graph, external = import_graph()
    for module in LIGHT_MODULES:
        closure = reachable(graph, module)
        models = sorted(name for name in closure if name.startswith("sidecar.models"))
        assert not models, f"{module} imports {models}"
        runtimes = sorted({(name, lib) for name in closure for lib in external[name] if lib in MODEL_RUNTIMES})
        assert not runtimes, f"{module} imports model runtimes through {runtimes}"


def test_light_modules_load_no_model_runtime():
    """The same, checked by importing them in a fresh interpreter."""
    code = (
        f"import sys; import {', '.join(LIGHT_MODULES)}; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {MODEL_RUNTIMES!r} "
        "or m.startswith('sidecar.models')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


if __name__ == "__main__":
    for module, targets in import_graph()[0].items():
        print(f"{module} -> {', '.join(sorted(targets)) or '-'}")
