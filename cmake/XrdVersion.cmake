# The git commit xrdbench is built from, read once at configure time (re-run cmake to refresh it): "abc123def456",
# with "-dirty" when tracked files had changes, or "unknown" outside a git checkout. Written to
# generated/harness/build_info.hpp with the install layout the installed binary uses to find its data.
find_package(Git QUIET)
set(XRD_GIT_COMMIT "unknown")
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${PROJECT_SOURCE_DIR} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE _commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND _commit)
    set(XRD_GIT_COMMIT "${_commit}")
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${PROJECT_SOURCE_DIR} status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE _status OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_status)
      string(APPEND XRD_GIT_COMMIT "-dirty")
    endif()
  endif()
endif()
# The data folder relative to the binary's folder (bin -> ../share/xrdbench): relative, so a prefix can move.
file(RELATIVE_PATH XRD_BIN_TO_DATA "/prefix/${CMAKE_INSTALL_BINDIR}" "/prefix/${CMAKE_INSTALL_DATADIR}/xrdbench")
configure_file(${PROJECT_SOURCE_DIR}/harness/build_info.hpp.in ${PROJECT_BINARY_DIR}/generated/harness/build_info.hpp
               @ONLY)
