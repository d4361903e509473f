"""The rooms of the house import one way: no module of qa/ or ui/ imports,
even lazily inside a function, one that imports it back; and `import qa`
alone loads no numpy, FAISS or model."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

PACKAGES = ("qa", "ui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str) -> set[str]:
    """Every qa/ui module ``path`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)  # "from . import store" imports a module
    return {m for m in out if m.split(".")[0] in PACKAGES}


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    edges = {}
    for name, path in paths.items():
        edges[name] = {m for m in imports_of(path, name) if m in paths and m != name}
    # Importing a.b.c runs a/__init__ and a/b/__init__ first: a package's own
    # submodules importing their package is the normal way down, not a cycle.
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_module_imports_one_that_imports_it_back():
    edges = graph()
    # A package importing its own submodule (to re-export) and the submodule
    # importing shared names from the package's __init__ is one room, not two.
    for name in list(edges):
        edges[name] = {m for m in edges[name] if not (m.startswith(name + ".") or name.startswith(m + "."))}
    assert cycles(edges) == []


def test_the_checker_sees_a_lazy_cycle(tmp_path):
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from .index import Index\n")
    assert imports_of(path, "qa.m") >= {"qa.index", "qa.index.Index"}


def test_import_qa_loads_no_numpy_faiss_or_model():
    code = ("import sys, qa; qa.Settings; qa.QAError; "
            "print(sorted(m for m in ('numpy', 'faiss', 'torch', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
