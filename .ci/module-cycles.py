#!/usr/bin/env python3
"""Fails when the modules of a library crate depend on each other in a circle.

A module depends on another when its code outside its `#[cfg(test)] mod tests` names
`crate::other` (in a `use` or a path). The crate root (lib.rs) re-exports everything and is left
out. Circles are the strongly connected components of more than one module (Tarjan's algorithm).
Usage: module-cycles.py CRATE_SRC_DIR...
"""
import pathlib
import re
import sys


def deps(src: pathlib.Path) -> dict[str, set[str]]:
    modules = {p.stem: p for p in src.glob("*.rs") if p.stem not in ("lib", "main")}
    graph = {}
    for name, path in modules.items():
        text = path.read_text()
        # Unit tests may use any module; only the production code counts.
        text = re.split(r"#\[cfg\([^\]]*\btest\b[^\]]*\)\]\s*mod tests\b", text)[0]
        text = "\n".join(line.split("//")[0] for line in text.splitlines())
        used = set(re.findall(r"\bcrate::(\w+)", text))
        # `use crate::{a, b::c}` groups.
        for group in re.findall(r"\bcrate::\{([^}]*)\}", text):
            used |= {part.strip().split("::")[0] for part in group.split(",") if part.strip()}
        graph[name] = {m for m in used if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


status = 0
for arg in sys.argv[1:]:
    src = pathlib.Path(arg)
    graph = deps(src)
    for component in cycles(graph):
        status = 1
        edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component]
        print(f"{src}: modules in a circle: {', '.join(component)} ({'; '.join(edges)})")
print("module circles: none" if status == 0 else "module circles found", file=sys.stderr)
sys.exit(status)
