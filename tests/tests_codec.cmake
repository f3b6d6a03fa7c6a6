# Codec script tests: the escape-dense benchmark frame, written by `xrdbench cbf encode`, read back by fabio
# (Debian's python3-fabio) to exactly the scaled pixels (scripts/make_dense_frame.sh checks and fails otherwise).
add_test(NAME codec_dense_frame_fabio
         COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/make_dense_frame.sh $<TARGET_FILE:xrdbench>
                 ${CMAKE_CURRENT_BINARY_DIR}/lab6_dense.cbf)
set_tests_properties(codec_dense_frame_fabio PROPERTIES TIMEOUT 120 ENVIRONMENT "XRD_SHARED_DIR=${XRD_SHARED_DIR}")

# scripts/bench_decode_vs_fabio.sh: refuses too few rounds (the figures are medians over >= 5 alternating rounds),
# and a short real run (one benchmark row, 5 rounds of 20 fabio calls) prints the table with fabio's row, ours and
# the per-round ratio.
if(TARGET xrdbench_micro)  # the script needs the micro-benchmark binary (not built in the ASan preset)
  add_test(NAME codec_bench_vs_fabio_rounds
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/bench_decode_vs_fabio.sh ${CMAKE_BINARY_DIR} 3)
  set_tests_properties(codec_bench_vs_fabio_rounds PROPERTIES PASS_REGULAR_EXPRESSION "ROUNDS must be an integer >= 5"
                       ENVIRONMENT "XRD_SHARED_DIR=${XRD_SHARED_DIR}")

  add_test(NAME codec_bench_vs_fabio_table
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/bench_decode_vs_fabio.sh ${CMAKE_BINARY_DIR} 5 20)
  set_tests_properties(codec_bench_vs_fabio_table PROPERTIES
    TIMEOUT 300
    ENVIRONMENT "XRD_SHARED_DIR=${XRD_SHARED_DIR};XRD_BENCH_FILTER=BM_decode_scalar/int32/lab6$"
    PASS_REGULAR_EXPRESSION "\\| fabio [0-9.]+ decByteOffset \\| [0-9.]+ \\|[^\n]*\n\\| scalar \\(reference\\) \\| [0-9.]+ \\| [0-9.]+-[0-9.]+ \\| [0-9.]+ \\|")

  # XRD_BENCH_BASELINE: a baseline build's rows ("before: ...") in the same rounds (here the same build twice), and
  # a clear error for a folder without the micro-benchmark binary.
  add_test(NAME codec_bench_vs_fabio_baseline
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/bench_decode_vs_fabio.sh ${CMAKE_BINARY_DIR} 5 20)
  set_tests_properties(codec_bench_vs_fabio_baseline PROPERTIES
    TIMEOUT 300
    ENVIRONMENT "XRD_SHARED_DIR=${XRD_SHARED_DIR};XRD_BENCH_FILTER=BM_decode_scalar/int32/lab6$;XRD_BENCH_BASELINE=${CMAKE_BINARY_DIR}"
    PASS_REGULAR_EXPRESSION "\\| before: scalar \\(reference\\) \\| [0-9.]+ \\| [0-9.]+-[0-9.]+ \\| [0-9.]+ \\|")
  add_test(NAME codec_bench_vs_fabio_baseline_missing
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/bench_decode_vs_fabio.sh ${CMAKE_BINARY_DIR} 5 20)
  set_tests_properties(codec_bench_vs_fabio_baseline_missing PROPERTIES
    ENVIRONMENT "XRD_SHARED_DIR=${XRD_SHARED_DIR};XRD_BENCH_BASELINE=${CMAKE_BINARY_DIR}/no-such-build"
    PASS_REGULAR_EXPRESSION "XRD_BENCH_BASELINE=.*no-such-build: no executable .*harness/xrdbench_micro")
endif()
