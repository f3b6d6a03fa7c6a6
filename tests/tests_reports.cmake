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
set_tests_properties(reports:stats reports:compare reports:report reports:ci_script PROPERTIES
                     ENVIRONMENT "${_reports_env}" TIMEOUT 600 LABELS reports)
