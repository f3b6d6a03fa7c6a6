// The SIMD unshuffle kernels, each in its own file built for its instruction set; only bslz4_fast.cpp calls them,
// after asking the CPU (the *_supported() functions) at run time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace xrd::bslz4::simd {

bool avx512_supported();  // AVX-512 F/BW/VBMI + GFNI
void avx512_unshuffle(const uint8_t* in, size_t n, size_t elem_size, uint8_t* out);

bool avx2_supported();
void avx2_unshuffle(const uint8_t* in, size_t n, size_t elem_size, uint8_t* out);

}  // namespace xrd::bslz4::simd
