#!/usr/bin/env python3
"""The layer check can fail (ctest `layer_check:self_test`): run tests/layer_check.py on small fixture trees and on a
temporary copy of this source tree with one upward include put in, and expect it to name the file and line."""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHECK = os.path.join(HERE, "layer_check.py")


def run(root, *extra):
    p = subprocess.run([sys.executable, CHECK, "--root", root, *extra], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))


class Fixture(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="layer_check_")
        write(self.root, "base/error.hpp", "#pragma once\n")
        write(self.root, "kernels/k.cpp", '#include "kernels/k.hpp"\n#include "base/error.hpp"\n')
        write(self.root, "kernels/k.hpp", "#pragma once\n")
        write(self.root, "harness/runner.cpp", '#include "kernels/k.hpp"\n')
        write(self.root, "harness/cmd_run.cpp", '#include "harness/runner.hpp"\n')
        write(self.root, "harness/runner.hpp", "#pragma once\n")
        write(self.root, "tests/test_x.cpp", '#include "harness/cmd_run.cpp"\n')
        write(self.root, "base/CMakeLists.txt", "xrd_add_library(xrd_base GLOBS *.cpp DEPS Threads::Threads)\n")
        write(self.root, "kernels/CMakeLists.txt", """\
            # a comment naming xrd_harness does not count
            xrd_add_library(xrd_codec GLOBS k*.cpp
                            DEPS xrd_base)
            xrd_add_library(xrd_integrate GLOBS i*.cpp DEPS xrd_base TBB::tbb)
            """)
        write(self.root, "harness/CMakeLists.txt", """\
            add_library(xrd_harness STATIC ${srcs})
            target_link_libraries(xrd_harness PUBLIC xrd_codec ${HDF5_C_LIBRARIES})
            add_executable(xrdbench main.cpp)
            target_link_libraries(xrdbench PRIVATE xrd_harness)
            """)

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_clean_fixture_passes(self):
        rc, out = run(self.root)
        self.assertEqual(rc, 0, out)
        self.assertIn("includes point down", out)

    def test_upward_include_names_file_and_line(self):
        write(self.root, "kernels/k.cpp", '#include "kernels/k.hpp"\n\n#include "harness/runner.hpp"\n')
        rc, out = run(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn('kernels/k.cpp:3: kernels file includes "harness/runner.hpp" of the higher layer harness', out)

    def test_library_including_the_executable_layer_fails(self):
        write(self.root, "harness/runner.cpp", '#include "harness/cmd_run.hpp"\n')
        rc, out = run(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn('harness/runner.cpp:1: harness file includes "harness/cmd_run.hpp" of the higher layer top', out)

    def test_cmake_cycle_in_one_layer_fails(self):
        with open(os.path.join(self.root, "kernels/CMakeLists.txt"), "a") as f:
            f.write("target_link_libraries(xrd_codec PUBLIC\n  xrd_integrate)\ntarget_link_libraries(xrd_integrate "
                    "PRIVATE xrd_codec)\n")
        rc, out = run(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("library cycle: xrd_codec -> xrd_integrate -> xrd_codec", out)
        self.assertIn("kernels/CMakeLists.txt:5", out)  # where the first link of the cycle is written

    def test_link_to_a_higher_layer_fails(self):
        with open(os.path.join(self.root, "kernels/CMakeLists.txt"), "a") as f:
            f.write("target_link_libraries(xrd_integrate PUBLIC xrd_harness)\n")
        rc, out = run(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("kernels/CMakeLists.txt:5: xrd_integrate (kernels) links xrd_harness of the higher layer harness",
                      out)

    def test_graphviz_cycle_fails(self):
        dot = os.path.join(self.root, "deps.dot")
        with open(dot, "w") as f:
            f.write('digraph "xrdbench" {\n"node0" [ label = "xrd_strategies", shape = octagon ];\n'
                    '"node1" [ label = "xrd_harness", shape = octagon ];\n"node2" [ label = "TBB::tbb" ];\n'
                    '"node0" -> "node1" [ style = dotted ]\n"node1" -> "node0"\n"node1" -> "node2"\n}\n')
        rc, out = run(self.root, "--graphviz", dot)
        self.assertEqual(rc, 1, out)
        self.assertIn("library cycle: xrd_harness -> xrd_strategies -> xrd_harness", out)

    def test_not_a_source_tree_is_a_usage_error(self):
        rc, out = run(os.path.join(self.root, "kernels"))
        self.assertEqual(rc, 2, out)
        self.assertIn("no base/ folder", out)


class RealTree(unittest.TestCase):
    """This repository passes; a copy of it with strategy.hpp including a harness header fails, naming the line."""

    def test_real_tree_passes_and_a_bad_copy_fails(self):
        rc, out = run(ROOT)
        self.assertEqual(rc, 0, out)
        tmp = tempfile.mkdtemp(prefix="layer_check_tree_")
        try:
            for d in ("base", "kernels", "datasets", "strategies", "harness"):
                shutil.copytree(os.path.join(ROOT, d), os.path.join(tmp, d))
            shutil.copy(os.path.join(ROOT, "CMakeLists.txt"), tmp)
            self.assertEqual(run(tmp)[0], 0)
            path = os.path.join(tmp, "strategies", "strategy.hpp")
            with open(path) as f:
                lines = f.read().split("\n")
            at = next(i for i, l in enumerate(lines) if l.startswith("#include"))
            lines.insert(at, '#include "harness/runner.hpp"')
            with open(path, "w") as f:
                f.write("\n".join(lines))
            rc, out = run(tmp)
            self.assertEqual(rc, 1, out)
            self.assertIn('strategies/strategy.hpp:%d: strategies file includes "harness/runner.hpp"' % (at + 1), out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
