// The per-format readers behind image_io::read, and the element conversion they share.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "datasets/image_io.hpp"

namespace xrd::image_io::detail {

enum class Scalar { b1, u8, i8, u16, i16, u32, i32, u64, i64, f32, f64 };
size_t size_of(Scalar t);
const char* name_of(Scalar t);  // "bool", "uint8", ..., "float64"

// Converts `count` elements of type t stored little- (or big-) endian at `bytes` into out.pixels.
void convert(std::span<const uint8_t> bytes, size_t count, Scalar t, bool big_endian, Image& out);

Image read_edf(const std::filesystem::path& p, std::span<const uint8_t> bytes);
Image read_npy(const std::filesystem::path& p, std::span<const uint8_t> bytes);
Image read_tiff(const std::filesystem::path& p);
Image read_hdf5(const std::filesystem::path& p, const std::string& dataset);

}  // namespace xrd::image_io::detail
