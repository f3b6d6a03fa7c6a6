xrd_add_library(xrd_opencl GLOBS ocl_*.cpp DEPS OpenCL::OpenCL xrd_codec xrd_integrate)
