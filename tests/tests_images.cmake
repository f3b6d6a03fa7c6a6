# Darks and flats through `xrdbench run` (dataset.cpp) and `xrdbench integrate`, files written by numpy and h5py.
add_test(NAME images:run_dark_flat
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_run_dark_flat.py $<TARGET_FILE:xrdbench>)
set_tests_properties(images:run_dark_flat PROPERTIES TIMEOUT 600 LABELS images)
