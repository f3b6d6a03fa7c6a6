// The fast byte-offset kernels, one per instruction set, each in its own file built for that set; only
// byte_offset_fast.cpp calls them, after asking the CPU (the *_supported() functions) at run time.
#pragma once
#include <span>

#include "kernels/byte_offset.hpp"

namespace xrd::byte_offset::kernels {

bool avx512vbmi2_supported();
DecodeResult avx512vbmi2_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t);
DecodeResult avx512vbmi2_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t);

bool avx512vnni_supported();
DecodeResult avx512vnni_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t);
DecodeResult avx512vnni_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t);

bool avx512_supported();
DecodeResult avx512_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t);
DecodeResult avx512_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t);

bool avx2_supported();
DecodeResult avx2_i32(std::span<const uint8_t> in, std::span<int32_t> out, ElementType t);
DecodeResult avx2_f32(std::span<const uint8_t> in, std::span<float> out, ElementType t);

}  // namespace xrd::byte_offset::kernels
