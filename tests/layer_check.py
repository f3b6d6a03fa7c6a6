#!/usr/bin/env python3
"""The layer check (ctest `layer_check`): includes point down, and the CMake library graph has no cycle.

Layers, lowest first; a file may include headers of its own layer and of the layers below:
    base < kernels < datasets < strategies < harness < top
"top" is what sits on everything: the xrdbench executable (harness/main.cpp, harness/cmd_*.cpp, a future cli/), the
micro-benchmarks (harness/bench_*, a future bench/) and tests/.

Checks, over the source tree given by --root:
 1. every quoted #include "folder/file" of a .cpp/.hpp/.h/.c/.in file names a header of the same or a lower layer;
    otherwise:  FILE:LINE: <layer> file includes "<header>" of the higher layer <layer>
 2. the library graph read from the CMake files (xrd_add_library(NAME ... DEPS ...), add_library,
    add_executable, target_link_libraries) has no cycle, and no library links a library of a higher layer:
    FILE:LINE: library cycle: a -> b -> a     /     FILE:LINE: xrd_x (layer) links xrd_y of the higher layer ...
    With --graphviz FILE (the output of `cmake --graphviz=FILE`), that graph is checked for cycles as well.

Exit status: 0 clean, 1 violations found (each printed on its own line), 2 usage error.
"""
import argparse
import os
import re
import sys

LAYERS = ["base", "kernels", "datasets", "strategies", "harness", "top"]
RANK = {name: i for i, name in enumerate(LAYERS)}
SOURCE_EXT = (".cpp", ".hpp", ".h", ".c", ".cc", ".in")
SKIP_DIRS = {".git", "build", "bundle", "data", "corpus", "node_modules", "__pycache__"}


def layer_of(rel):
    """The layer of a path relative to the root ("kernels/csr.hpp"), None when outside the layers (scripts/ ...)."""
    parts = rel.replace(os.sep, "/").split("/")
    top, name = parts[0], parts[-1]
    if top in ("tests", "cli", "bench"):
        return "top"
    if top == "harness" and len(parts) == 2 and (name.startswith(("cmd_", "bench_")) or name.startswith("main.")):
        return "top"
    if top in RANK:
        return top
    return None


INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def check_includes(root):
    errors = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for fn in sorted(filenames):
            if not fn.endswith(SOURCE_EXT):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            mine = layer_of(rel)
            if mine is None:
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    header = m.group(1)
                    if "/" not in header:
                        continue  # a sibling in the same folder: same layer
                    theirs = layer_of(header)
                    if theirs is not None and RANK[theirs] > RANK[mine]:
                        errors.append('%s:%d: %s file includes "%s" of the higher layer %s'
                                      % (rel, lineno, mine, header, theirs))
    return errors


# --- CMake ---------------------------------------------------------------------------------------------------------

COMMAND = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def strip_comment(line):
    out, quoted = [], False
    for i, c in enumerate(line):
        if c == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        if c == "#" and not quoted and not line[i:].startswith("#]"):
            break
        out.append(c)
    return "".join(out)


def cmake_commands(path):
    """(name, [arguments], line) for every command invocation in a CMake file (nested parentheses kept whole)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [strip_comment(l) for l in f.read().split("\n")]
    text = "\n".join(lines)
    pos, out = 0, []
    while True:
        m = COMMAND.search(text, pos)
        if not m:
            return out
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        args = text[m.end():i - 1]
        out.append((m.group(1).lower(), re.findall(r'"[^"]*"|[^\s()]+', args), text.count("\n", 0, m.start()) + 1))
        pos = i


KEYWORDS = {"PUBLIC", "PRIVATE", "INTERFACE", "LINK_PUBLIC", "LINK_PRIVATE", "LINK_INTERFACE_LIBRARIES", "STATIC",
            "SHARED", "OBJECT", "MODULE", "GLOBS", "DEPS", "debug", "optimized", "general"}


def cmake_graph(root):
    """targets: name -> (layer, where); edges: [(from, to, where)] for links between our own targets."""
    targets, links = {}, []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for fn in sorted(filenames):
            if fn != "CMakeLists.txt" and not fn.endswith(".cmake"):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            layer = layer_of(rel) if "/" in rel else None
            for name, args, line in cmake_commands(path):
                where = "%s:%d" % (rel, line)
                if name in ("add_library", "add_executable", "xrd_add_library") and args:
                    target = args[0]
                    kind = "executable" if name == "add_executable" else "library"
                    if "ALIAS" in args or "IMPORTED" in args or "$" in target:
                        continue
                    targets.setdefault(target, ("top" if kind == "executable" else layer, where))
                    if name == "xrd_add_library" and "DEPS" in args:
                        for dep in args[args.index("DEPS") + 1:]:
                            if dep not in KEYWORDS:
                                links.append((target, dep, where))
                elif name == "target_link_libraries" and args:
                    for dep in args[1:]:
                        if dep not in KEYWORDS:
                            links.append((args[0], dep, where))
    edges = [(a, b, w) for a, b, w in links if a in targets and b in targets]
    return targets, edges


def find_cycle(nodes, edges):
    """One cycle as a list of edges (a, b, where), or None."""
    out = {}
    for a, b, w in edges:
        out.setdefault(a, []).append((b, w))
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        for m, w in out.get(n, []):
            stack.append((n, m, w))
            if state.get(m) == 1:
                start = next(i for i, e in enumerate(stack) if e[0] == m)
                return stack[start:]
            if m not in state:
                found = visit(m)
                if found:
                    return found
            stack.pop()
        state[n] = 2
        return None

    for n in sorted(nodes):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def describe_cycle(cycle):
    names = " -> ".join([cycle[0][0]] + [b for _, b, _ in cycle])
    return "%s: library cycle: %s (%s)" % (cycle[0][2], names, "; ".join("%s links %s at %s" % e for e in cycle))


def check_cmake(root):
    targets, edges = cmake_graph(root)
    errors = []
    for a, b, where in edges:
        la, lb = targets[a][0], targets[b][0]
        if la in RANK and lb in RANK and RANK[lb] > RANK[la]:
            errors.append("%s: %s (%s) links %s of the higher layer %s" % (where, a, la, b, lb))
    cycle = find_cycle(targets.keys(), edges)
    if cycle:
        errors.append(describe_cycle(cycle))
    return errors, targets, edges


def check_graphviz(dot):
    """Cycles in `cmake --graphviz` output among our targets (node labels starting with xrd)."""
    label, edges = {}, []
    with open(dot, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\s*"(node\d+)"\s*\[\s*label\s*=\s*"([^"]+)"', line)
            if m:
                label[m.group(1)] = m.group(2)
            m = re.match(r'\s*"(node\d+)"\s*->\s*"(node\d+)"', line)
            if m:
                edges.append((m.group(1), m.group(2)))
    ours = {n for n, l in label.items() if l.startswith("xrd")}
    named = [(label[a], label[b], dot) for a, b in edges if a in ours and b in ours]
    cycle = find_cycle({label[n] for n in ours}, named)
    return [describe_cycle(cycle)] if cycle else []


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog="example: python3 tests/layer_check.py --root . --graphviz build/deps.dot")
    ap.add_argument("--root", required=True, help="the source tree (the folder holding base/, kernels/, ...)")
    ap.add_argument("--graphviz", help="also check this `cmake --graphviz=FILE` output for cycles")
    ap.add_argument("--verbose", action="store_true", help="print the library graph read from the CMake files")
    a = ap.parse_args(argv)
    if not os.path.isdir(os.path.join(a.root, "base")):
        print("layer_check: %s: no base/ folder here (is --root the source tree?)" % a.root, file=sys.stderr)
        return 2
    errors = check_includes(a.root)
    cmake_errors, targets, edges = check_cmake(a.root)
    errors += cmake_errors
    if a.graphviz:
        errors += check_graphviz(a.graphviz)
    if a.verbose:
        for t in sorted(targets):
            print("%-20s %-10s %s" % (t, targets[t][0], " ".join(sorted({b for x, b, _ in edges if x == t}))))
    for e in errors:
        print(e)
    if errors:
        print("layer_check: %d violation(s); layers, lowest first: %s" % (len(errors), " < ".join(LAYERS)))
        return 1
    print("layer_check: %d libraries/executables, %d links, includes point down (%s)"
          % (len(targets), len(edges), " < ".join(LAYERS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
