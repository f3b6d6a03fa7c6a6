# Reports and comparison (reports/*.py, `xrdbench report`, `xrdbench compare`): Python unittest scripts run by
# Debian's /usr/bin/python3, the command tests through the xrdbench binary (finding the scripts, passing exit codes).
set(_reports_env "XRD_SHARED_DIR=${XRD_SHARED_DIR}" "MPLBACKEND=Agg")
add_test(NAME reports:stats
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/test_stats.py)
add_test(NAME reports:compare
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/test_compare.py --xrdbench $<TARGET_FILE:xrdbench>)
add_test(NAME reports:report
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/test_report.py --xrdbench $<TARGET_FILE:xrdbench>)
add_test(NAME reports:ci_script
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/test_ci_script.py)
# Issue 10: impossible figures (Infinity, NaN, negative, 0), empty tables, wrong types: a clear message, never a hang.
add_test(NAME reports:hostile
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/test_hostile_results.py
                 --xrdbench $<TARGET_FILE:xrdbench>)
# 6,000 vs 60,000 rows: report and compare stay linear (a smoke test of complexity, generous limits).
add_test(NAME reports:scaling
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/test_report_scaling.py
                 --xrdbench $<TARGET_FILE:xrdbench>)
# A short deterministic fuzz run of the results readers (tests/reports/fuzz_results.py: seeded mutations of the
# fixtures; figures drawn for every 100th input). Longer: --iterations 100000; coverage-guided: --atheris.
add_test(NAME reports:fuzz_results
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/fuzz_results.py --iterations 1500 --seed 1
                 --figures-every 100 --crash-dir ${CMAKE_CURRENT_BINARY_DIR}/fuzz_results_crashes)
# Real output of `xrdbench table1` against docs/results.schema.json and docs/results-schema.md; CSV read back.
add_test(NAME reports:schema
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/test_schema.py --xrdbench $<TARGET_FILE:xrdbench>)
set_tests_properties(reports:stats reports:compare reports:report reports:ci_script reports:hostile reports:scaling
                     reports:fuzz_results reports:schema PROPERTIES
                     ENVIRONMENT "${_reports_env}" TIMEOUT 900 LABELS reports)
# The summary at the top of report.md / report.html, noise flags, and figure words for OpenCL CPU devices (issue 13).
add_test(NAME reports:summary
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reports/test_report_summary.py
                 --xrdbench $<TARGET_FILE:xrdbench>)
set_tests_properties(reports:summary PROPERTIES ENVIRONMENT "${_reports_env}" TIMEOUT 900 LABELS reports)
