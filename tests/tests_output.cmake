# The reduced data (tests/output/): the pattern files of run / table1 / integrate read back with h5py (Debian's
# /usr/bin/python3 + python3-h5py) and compared with integrate's; interruption by signals; disk full (root, tmpfs);
# nexusformat's nxcheck (PyPI, in the test venv build/venv-tests of the source tree). Exit 77 = SKIP, with the reason printed.
set(_output_dir ${CMAKE_CURRENT_SOURCE_DIR}/output)
add_test(NAME output:patterns
         COMMAND /usr/bin/python3 ${_output_dir}/test_patterns.py --xrdbench $<TARGET_FILE:xrdbench>)
add_test(NAME output:interrupt
         COMMAND /usr/bin/python3 ${_output_dir}/test_interrupt.py --xrdbench $<TARGET_FILE:xrdbench>)
add_test(NAME output:disk_full
         COMMAND /usr/bin/python3 ${_output_dir}/test_disk_full.py --xrdbench $<TARGET_FILE:xrdbench>)
add_test(NAME output:nxcheck
         COMMAND /usr/bin/python3 ${_output_dir}/test_nxcheck.py --xrdbench $<TARGET_FILE:xrdbench>
                 --venv ${PROJECT_SOURCE_DIR}/build/venv-tests)
set_tests_properties(output:patterns output:interrupt output:disk_full output:nxcheck PROPERTIES
                     TIMEOUT 900 SKIP_RETURN_CODE 77 LABELS output ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
# The two fault cases of issue 10 that live here also run with the fault-injection suite (ctest -L fault).
set_tests_properties(output:interrupt output:disk_full PROPERTIES LABELS "output;fault")
