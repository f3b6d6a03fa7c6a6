# Installability: cmake --install into a temporary prefix (then moved), table1 + report from there, --version,
# the man page and the bash completion (tests/scripts/test_install.py). Needs everything built (install copies it).
add_test(NAME install:prefix
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/scripts/test_install.py --cmake ${CMAKE_COMMAND}
                 --build ${PROJECT_BINARY_DIR} --source ${PROJECT_SOURCE_DIR})
set_tests_properties(install:prefix PROPERTIES TIMEOUT 900 LABELS install)
