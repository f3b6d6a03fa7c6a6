# Codec script tests: the escape-dense benchmark frame, written by `xrdbench cbf encode`, read back by fabio
# (Debian's python3-fabio) to exactly the scaled pixels (scripts/make_dense_frame.sh checks and fails otherwise).
add_test(NAME codec_dense_frame_fabio
         COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/make_dense_frame.sh $<TARGET_FILE:xrdbench>
                 ${CMAKE_CURRENT_BINARY_DIR}/lab6_dense.cbf)
set_tests_properties(codec_dense_frame_fabio PROPERTIES TIMEOUT 120 ENVIRONMENT "XRD_SHARED_DIR=${XRD_SHARED_DIR}")
