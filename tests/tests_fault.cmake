# Fault-injection suite (tests/fault/test_*.py, see tests/fault/README.md): the real xrdbench under faults of the
# environment (frames removed or unreadable, output folders unwritable or shared, signals, process limits). Each
# script is one ctest test, fault_<name>; a new tests/fault/test_<name>.py is picked up when CMake runs again.
file(GLOB fault_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fault/test_*.py)
foreach(t ${fault_tests})
  get_filename_component(name ${t} NAME_WE)
  string(REGEX REPLACE "^test_" "fault_" name ${name})
  add_test(NAME ${name} COMMAND /usr/bin/python3 ${t} $<TARGET_FILE:xrdbench>)
  # RESOURCE_LOCK: several scripts run xrdbench as the user nobody, and RLIMIT_NPROC counts every thread of that
  # user: the thread-limit case must not share nobody with another test.
  set_tests_properties(${name} PROPERTIES TIMEOUT 600 LABELS fault RESOURCE_LOCK user_nobody
                       ENVIRONMENT "PYTHONPATH=${CMAKE_CURRENT_SOURCE_DIR}/fault;PYTHONDONTWRITEBYTECODE=1")
endforeach()
