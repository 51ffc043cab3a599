#!/usr/bin/env python3
"""Fails when the modules of a library crate depend on each other in a circle.

A module depends on another when its code outside its `#[cfg(test)] mod tests` names
`crate::other` (in a `use` or a path). A directory module (`name/mod.rs`) is one module with all
its files, and its own modules are checked the same way among themselves (`super::x`). The crate root (lib.rs) re-exports everything and is left
out. Circles are the strongly connected components of more than one module (Tarjan's algorithm).
Usage: module-cycles.py CRATE_SRC_DIR...
"""
import pathlib
import re
import sys


def production_text(path: pathlib.Path) -> str:
    text = path.read_text()
    # Unit tests (and test-only modules at the end of a file) may use any module; only the
    # production code counts.
    text = re.split(r"#\[cfg\([^\]]*\btest\b[^\]]*\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod \w+", text)[0]
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def used(text: str, prefix: str) -> set[str]:
    names = set(re.findall(rf"\b{prefix}::(\w+)", text))
    # `use crate::{a, b::c}` groups.
    for group in re.findall(rf"\b{prefix}::\{{([^}}]*)\}}", text):
        names |= {part.strip().split("::")[0] for part in group.split(",") if part.strip()}
    return names


def deps(src: pathlib.Path) -> dict[str, set[str]]:
    # A module is a file `name.rs`, or a directory `name/` with a `mod.rs` (all its files count
    # as the module's).
    modules = {p.stem: [p] for p in src.glob("*.rs") if p.stem not in ("lib", "main")}
    for d in src.iterdir():
        if d.is_dir() and (d / "mod.rs").exists():
            modules[d.name] = sorted(d.rglob("*.rs"))
    graph = {}
    for name, paths in modules.items():
        text = "\n".join(production_text(p) for p in paths)
        graph[name] = {m for m in used(text, "crate") if m in modules and m != name}
    return graph


def sub_deps(src: pathlib.Path) -> dict[pathlib.Path, dict[str, set[str]]]:
    """The modules of each directory module (its files but mod.rs), and which of them each names
    (`super::x`, or `crate::dir::x`)."""
    graphs = {}
    for d in sorted(src.iterdir()):
        if not (d.is_dir() and (d / "mod.rs").exists()):
            continue
        subs = {p.stem: p for p in d.glob("*.rs") if p.stem != "mod"}
        graph = {}
        for name, path in subs.items():
            text = production_text(path)
            names = used(text, "super") | used(text, f"crate::{d.name}")
            graph[name] = {m for m in names if m in subs and m != name}
        graphs[d] = graph
    return graphs


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
    for where, graph in [(src, deps(src)), *sub_deps(src).items()]:
        for component in cycles(graph):
            status = 1
            edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component]
            print(f"{where}: modules in a circle: {', '.join(component)} ({'; '.join(edges)})")
print("module circles: none" if status == 0 else "module circles found", file=sys.stderr)
sys.exit(status)
