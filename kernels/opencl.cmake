# xrd_opencl: the OpenCL host layer (ocl_*.cpp) and the kernels/*.cl sources, embedded at build time into
# generated/ocl_sources.hpp (rebuilt whenever a .cl file changes).
#
# Script mode (cmake -DXRD_EMBED_OUT=... -DXRD_EMBED_SOURCES=a.cl;b.cl -P opencl.cmake) writes that header.
if(XRD_EMBED_OUT)
  set(out "// Generated from kernels/*.cl by kernels/opencl.cmake: do not edit.\n#pragma once\n\n")
  string(APPEND out "namespace xrd::ocl::generated {\nstruct Source {\n  const char* name;\n  const char* text;\n};\n")
  string(APPEND out "inline const Source ocl_sources[] = {\n")
  foreach(f ${XRD_EMBED_SOURCES})
    get_filename_component(name "${f}" NAME)
    file(READ "${f}" text)
    string(APPEND out "    {\"${name}\", R\"XRDCL(${text})XRDCL\"},\n")
  endforeach()
  string(APPEND out "};\n}  // namespace xrd::ocl::generated\n")
  file(WRITE "${XRD_EMBED_OUT}.tmp" "${out}")
  file(COPY_FILE "${XRD_EMBED_OUT}.tmp" "${XRD_EMBED_OUT}" ONLY_IF_DIFFERENT)
  file(REMOVE "${XRD_EMBED_OUT}.tmp")
  return()
endif()

xrd_add_library(xrd_opencl GLOBS ocl_*.cpp DEPS xrd_base OpenCL::OpenCL xrd_codec xrd_bslz4 xrd_integrate)

file(GLOB xrd_cl_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cl)
string(REPLACE ";" "$<SEMICOLON>" xrd_cl_sources_arg "${xrd_cl_sources}")
set(xrd_cl_header ${PROJECT_BINARY_DIR}/generated/generated/ocl_sources.hpp)
add_custom_command(
  OUTPUT ${xrd_cl_header}
  COMMAND ${CMAKE_COMMAND} -DXRD_EMBED_OUT=${xrd_cl_header} "-DXRD_EMBED_SOURCES=${xrd_cl_sources_arg}"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/opencl.cmake
  DEPENDS ${xrd_cl_sources} ${CMAKE_CURRENT_SOURCE_DIR}/opencl.cmake
  COMMENT "Embedding OpenCL kernels (kernels/*.cl)"
  VERBATIM)
get_target_property(xrd_opencl_type xrd_opencl TYPE)
if(NOT xrd_opencl_type STREQUAL "INTERFACE_LIBRARY")
  target_sources(xrd_opencl PRIVATE ${xrd_cl_header})
endif()
