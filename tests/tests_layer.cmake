# Issue 11: the layer check. Includes point down (base < kernels < datasets < strategies < harness < the executable,
# micro-benchmarks and tests) and the CMake library graph has no cycle (tests/layer_check.py); the self-test shows it
# fails, naming file and line, on fixtures and on a copy of this tree with one upward include.
add_test(NAME layer_check COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/layer_check.py --root ${PROJECT_SOURCE_DIR})
add_test(NAME layer_check:self_test COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/layer_check_test.py)
set_tests_properties(layer_check layer_check:self_test PROPERTIES TIMEOUT 300 LABELS "layers;fast"
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
