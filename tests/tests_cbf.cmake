# CBF script tests: fabio (Debian's python3-fabio, a real peer) reads the files our writer produces.
add_test(NAME cbf_fabio_roundtrip
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_fabio_roundtrip.py
                 $<TARGET_FILE:xrdbench> ${XRD_SHARED_DIR}/fixtures)
set_tests_properties(cbf_fabio_roundtrip PROPERTIES TIMEOUT 120)
