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

// Throws xrd::Error (file `name`, `where`) when a width x height image is empty or larger than 2^30 pixels (a
// corrupt header; also keeps width * height * element size from overflowing).
void check_extent(const std::string& name, const std::string& where, size_t width, size_t height);

// Throws xrd::Error when `decoded` bytes could not come out of a `stored`-byte file or dataset: more than 256 MiB
// and more than 4096 times the stored size (a corrupt header in a compressed TIFF or HDF5 would otherwise allocate
// gigabytes before failing).
void check_decoded_size(const std::string& name, const std::string& where, size_t decoded, size_t stored);

// Converts `count` elements of type t stored little- (or big-) endian at `bytes` into out.pixels.
void convert(std::span<const uint8_t> bytes, size_t count, Scalar t, bool big_endian, Image& out);

Image read_edf(const std::filesystem::path& p, std::span<const uint8_t> bytes);
Image read_npy(const std::filesystem::path& p, std::span<const uint8_t> bytes);
Image read_tiff(const std::filesystem::path& p);
Image read_hdf5(const std::filesystem::path& p, const std::string& dataset);

}  // namespace xrd::image_io::detail
