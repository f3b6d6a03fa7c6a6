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
