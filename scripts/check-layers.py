#!/usr/bin/env python3
"""Import layering: no cycle between the files under any crate's `src/`, and no module-level
cycle but the ones issue 23's cut is still removing (listed below; the list may only shrink).

A file's imports are its `use crate::…` / `super::…` / `self::…` trees and inline paths of the
same kinds, outside its `#[cfg(test)] mod tests` and comments. `a.rs` imports `b.rs` when it names anything defined in `b.rs` or
below it. Run from anywhere: `scripts/check-layers.py`.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Crate source roots whose files must form no cycle.
CRATES = ["shared/src", "server/src", "client-demo/client/src", "client-demo/src", "tests/src"]
GAMES = os.path.join(ROOT, "games")
CRATES += [f"games/{g}/src" for g in sorted(os.listdir(GAMES))] if os.path.isdir(GAMES) else []

# Module-level cycles (top-level modules of a crate) still to be cut (issue 23 §7). Each is
# a set of modules that reach each other; the check fails if a set grows, shrinks or appears,
# so the list stays true.
KNOWN_MODULE_CYCLES = {
    # The map type and the movement rule, which move to games/arena together.
    "shared/src": [{"arena", "rules"}],
}


def modules(src):
    """Every file of a crate as its module path ('game/core'; '' for the crate root)."""
    out = {}
    for d, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, src)[:-3]
            if rel.endswith("/mod") or rel == "mod":
                rel = rel[:-4] if rel != "mod" else ""
            if rel in ("lib", "main"):
                rel = ""
            with open(path, encoding="utf-8") as fh:
                out[rel] = fh.read()
    return out


def use_paths(tree, prefix=()):
    """The paths a `use crate::` tree names: `a::{b, c::d}` gives a::b and a::c::d."""
    tree = tree.strip()
    m = re.match(r"([\w:]*?)(?:::)?\{(.*)\}$", tree, re.S)
    if m:
        pre = prefix + tuple(p for p in m.group(1).split("::") if p)
        items, cur, depth = [], "", 0
        for ch in m.group(2):
            depth += ch == "{"
            depth -= ch == "}"
            if ch == "," and depth == 0:
                items.append(cur)
                cur = ""
            else:
                cur += ch
        items.append(cur)
        out = []
        for item in (i.strip() for i in items):
            if item == "self":
                out.append(pre)
            elif item:
                out += use_paths(item, pre)
        return out
    head = re.split(r"\s+as\s+", tree)[0]
    return [prefix + tuple(p for p in head.split("::") if p and p != "*")]


def file_graph(files):
    names = set(files)

    def resolve(parts):
        for i in range(len(parts), 0, -1):
            m = "/".join(parts[:i])
            if m in names:
                return m
        return None

    graph = {m: set() for m in names}
    for m, src in files.items():
        src = re.split(r"#\[cfg\(test\)\]\s*mod tests", src)[0]
        src = re.sub(r"//[^\n]*", "", src)
        here = tuple(p for p in m.split("/") if p)
        # `super::` and `self::` are paths from this module: the parent, or the module itself.
        roots = {"crate": (), "super": here[:-1], "self": here}
        paths = []
        for root, tree in re.findall(r"use\s+(crate|super|self)::([^;]*);", src, re.S):
            paths += [roots[root] + p for p in use_paths(tree)]
        for root, inline in re.findall(r"(?<![\w$])(?<!use )(crate|super|self)::((?:\w+::)*\w+)", src):
            paths.append(roots[root] + tuple(inline.split("::")))
        for p in paths:
            target = resolve(list(p))
            if target not in (None, "", m):
                graph[m].add(target)
    return graph


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan's algorithm)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    failed = False
    for crate in CRATES:
        src = os.path.join(ROOT, crate)
        if not os.path.isdir(src):
            continue
        graph = file_graph(modules(src))
        for comp in cycles(graph):
            failed = True
            print(f"{crate}: files import each other in a cycle:")
            for a in sorted(comp):
                print(f"    {a}.rs -> {', '.join(sorted(graph[a] & comp))}")
        top = {}
        for a, targets in graph.items():
            for b in targets:
                ta, tb = a.split("/")[0], b.split("/")[0]
                if ta != tb:
                    top.setdefault(ta, set()).add(tb)
        found = sorted((sorted(c) for c in cycles(top)))
        known = sorted(sorted(c) for c in KNOWN_MODULE_CYCLES.get(crate, []))
        if found != known:
            failed = True
            print(f"{crate}: module-level cycles changed.\n    now:   {found}\n    known: {known}")
            print("    A new cycle is a layering error; a smaller one means the list above shrinks.")
    if failed:
        sys.exit(1)
    print("import layering: no file-level cycle in any crate; module-level cycles as listed")


if __name__ == "__main__":
    main()
