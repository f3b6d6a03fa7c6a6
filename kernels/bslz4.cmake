# xrd_bslz4: bitshuffle-LZ4 (HDF5 filter 32008) decode/encode: scalar reference + SIMD unshuffle kernels, liblz4.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
xrd_add_library(xrd_bslz4 GLOBS bslz4*.cpp DEPS xrd_base PkgConfig::LZ4 TBB::tbb xrd_codec)
