#!/usr/bin/env python3
"""Checks that the modules of a crate's src/ import each other without a cycle.

Usage: scripts/check-imports.py CRATE_SRC_DIR...

A module is a file (lib.rs, a.rs, a/mod.rs, a/b.rs). An edge M -> N is a path in M's code
(outside its unit tests) that names N or an item of N: `crate::a::b::Item`, `super::x`,
`self::x`, or in a module file `child::Item` of one of its submodules. Declaring a submodule
(`mod x;`) is not an edge by itself; test-only modules (a `tests` directory,
`#[cfg(test)] mod tests { ... }`) are left out. Exits 1 and prints each cycle.
"""
import os
import re
import sys

PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+|::\{)")


def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] in ("lib", "main", "mod"):
        rel = rel[:-1]
    return tuple(rel)


def strip_tests(text):
    m = re.search(r"#\[cfg\(test\)\]\s*(pub(\(\w+\))?\s+)?mod \w+\s*\{", text)
    text = text if m is None else text[: m.start()]
    # Comments may name paths that are not imports, and visibilities (`pub(in crate::a)`)
    # name modules without depending on them.
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"pub\(in [\w:]+\)", "pub", text)


def expand_use_groups(text):
    """`use crate::a::{b, c::D}` -> the paths crate::a::b and crate::a::c::D."""
    out = []
    for m in re.finditer(r"\buse\s+((?:crate|super|self)(?:::\w+)*)::\{([^;]*)\};", text, re.S):
        base = m.group(1)
        for part in re.split(r",", re.sub(r"\{[^}]*\}", "", m.group(2))):
            name = part.strip().split(" as ")[0].strip()
            if name and name != "self":
                out.append(f"{base}::{name}")
            elif name == "self":
                out.append(base)
        # nested groups: take their prefix
        for inner in re.finditer(r"(\w+)::\{", m.group(2)):
            out.append(f"{base}::{inner.group(1)}")
    return out


def resolve(current, path, modules):
    parts = path.split("::")
    head, rest = parts[0], parts[1:]
    if head == "crate":
        base = ()
    elif head == "self":
        base = current
    else:
        base = current[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    best = None
    for i in range(len(rest) + 1):
        cand = base + tuple(rest[:i])
        if cand in modules:
            best = cand
    return best


def check(root):
    files = {}
    for d, _, names in os.walk(root):
        if os.sep + "tests" in d[len(root):] or d[len(root):].endswith("tests"):
            continue
        for n in names:
            if n.endswith(".rs"):
                p = os.path.join(d, n)
                files[module_of(root, p)] = p
    modules = set(files)
    edges = {m: set() for m in modules}
    for m, p in files.items():
        text = strip_tests(open(p, encoding="utf-8").read())
        paths = [a + b for a, b in PATH.findall(text) if not b.endswith("{")]
        paths += expand_use_groups(text)
        # Paths relative to the module's own submodules: `use child::Item`, `child::f()`.
        for child in re.findall(r"^\s*(?:pub(?:\([\w:]+\))?\s+)?mod\s+(\w+)\s*;", text, re.M):
            if re.search(rf"(?<![\w:]){child}::", text):
                paths.append(f"self::{child}")
        for path in paths:
            target = resolve(m, path, modules)
            if target is None or target == m:
                continue
            edges[m].add(target)
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
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
                sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    name = lambda m: "crate::" + "::".join(m) if m else "crate"
    for comp in sccs:
        members = sorted(comp)
        print(f"check-imports: {root}: import cycle among " + ", ".join(name(m) for m in members))
        for a in members:
            for b in sorted(edges[a] & set(comp)):
                print(f"    {name(a)} -> {name(b)}")
    return not sccs


def main():
    ok = all([check(os.path.abspath(r)) for r in sys.argv[1:]])
    if ok:
        print("check-imports: no import cycle in " + " ".join(sys.argv[1:]))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
