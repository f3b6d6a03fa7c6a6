# `cmake --install build/release [--prefix P]`: the binaries in P/bin, their data in P/share/xrdbench (report
# scripts, a copy of the paper's Table 1), the man page, the bash completion, the licence and the README. The installed
# xrdbench finds its data from its own location (base/data_paths.cpp), so the prefix can be moved.
find_package(Python3 REQUIRED COMPONENTS Interpreter)

install(TARGETS xrdbench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET xrdbench_micro)
  # OPTIONAL: a build of only some targets still installs; tests/scripts/test_install.py checks it when built.
  install(TARGETS xrdbench_micro RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} OPTIONAL)
endif()

set(XRD_DATA_DEST ${CMAKE_INSTALL_DATADIR}/xrdbench)
file(GLOB XRD_REPORT_SCRIPTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/reports/*.py)
install(FILES ${XRD_REPORT_SCRIPTS} DESTINATION ${XRD_DATA_DEST}/reports)
install(DIRECTORY reports/baselines DESTINATION ${XRD_DATA_DEST}/reports)

# The paper's Table 1 and its notes: the binary has the table compiled in (harness/CMakeLists.txt); the report
# scripts read this copy (reports/xrdresults.py: <prefix>/share/xrdbench/paper/table1.csv).
install(FILES data/paper/table1.csv data/paper/facts.md DESTINATION ${XRD_DATA_DEST}/paper)

# The man page, generated from the --help texts of xrdbench and of every subcommand.
set(XRD_MAN ${PROJECT_BINARY_DIR}/man/xrdbench.1)
add_custom_command(OUTPUT ${XRD_MAN}
                   COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/make_manpage.py $<TARGET_FILE:xrdbench>
                           ${XRD_MAN}
                   DEPENDS xrdbench ${PROJECT_SOURCE_DIR}/scripts/make_manpage.py
                   COMMENT "Generating the man page xrdbench.1 from the --help texts")
add_custom_target(xrdbench_man ALL DEPENDS ${XRD_MAN})
install(FILES ${XRD_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES scripts/completion/xrdbench.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME xrdbench)
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
