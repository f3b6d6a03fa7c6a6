// Internal to kernels/ocl_*.cpp: the device image a Bslz4Decoder decodes into, for the engine to integrate in place.
#pragma once
#include "kernels/ocl_bslz4.hpp"
#include "kernels/ocl_cl.hpp"

namespace xrd::ocl::detail {
const cl::Buffer& bslz4_image(Bslz4Decoder& d);
}  // namespace xrd::ocl::detail
