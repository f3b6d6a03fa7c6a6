# MPI ranks (`mpirun -n R xrdbench run|table1`, harness/mpi*): Python unittest scripts driving Debian's Open MPI
# mpirun, oversubscribed on CI's 2 cores; the root-allowing variables are set in the scripts only.
if(XRD_WITH_MPI)
  find_program(XRD_MPIRUN mpirun)
  if(XRD_MPIRUN)
    add_test(NAME mpi:ranks
             COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/mpi/test_mpi.py --xrdbench $<TARGET_FILE:xrdbench>)
    set_tests_properties(mpi:ranks PROPERTIES ENVIRONMENT "XRD_SHARED_DIR=${XRD_SHARED_DIR}" TIMEOUT 900 LABELS mpi)
  else()
    message(WARNING "mpirun not found (Debian: openmpi-bin): the MPI tests are not registered")
  endif()
endif()

# The device selection (opencl:all, opencl:local-rank), opencl-batched over several engines, the ranks' BlockSource.
add_executable(test_mpi_devices ${CMAKE_CURRENT_SOURCE_DIR}/mpi/test_ocl_devices.cpp)
target_link_libraries(test_mpi_devices PRIVATE xrd_test_main)
catch_discover_tests(test_mpi_devices TEST_PREFIX "test_mpi_devices:" PROPERTIES ENVIRONMENT "XRD_SHARED_DIR=${XRD_SHARED_DIR}")
