// Detector masks: an image whose nonzero pixels are masked (pyFAI's convention for mask files), from any file
// image_io reads: CBF, EDF, NumPy .npy, TIFF, HDF5 "file.h5::/path/to/dataset".
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace xrd::mask {

// Reads a mask (nonzero = masked) into width*height bytes (1 = masked). When width/height are nonzero they must
// match the file's shape. Throws xrd::Error naming the file.
std::vector<uint8_t> read(const std::string& spec, size_t width = 0, size_t height = 0);
inline std::vector<uint8_t> read(const std::filesystem::path& p, size_t width = 0, size_t height = 0) {
  return read(p.string(), width, height);
}

// Adds (ORs) the pixels of `image` with negative values (Pilatus gaps -1, bad pixels -2) to `mask`
// (resized to image.size() and cleared when empty). Returns how many pixels it added.
size_t add_negative(std::span<const int32_t> image, std::vector<uint8_t>& mask);

}  // namespace xrd::mask
