// Detector-sized images that are not frames: masks, darks and flats, from the files pyFAI users have: CBF, EDF
// (fabio, pyFAI-drawmask), NumPy .npy, TIFF (libtiff) and HDF5 datasets named as pyFAI/silx name them,
// "file.h5::/path/to/dataset". The format is recognised by the file's first bytes.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace xrd::image_io {

struct Image {
  size_t width = 0, height = 0;  // columns (fast axis), rows (slow axis)
  std::vector<double> pixels;    // row-major; every integer type up to 32 bits and float32/64 are exact
  std::string format;            // "CBF", "EDF", "NPY", "TIFF", "HDF5"
  std::string type;              // the stored element type, e.g. "int8", "uint16", "float32"
};

// A file name, or an HDF5 dataset "file.h5::/path/to/dataset" (split at the last "::").
struct Source {
  std::filesystem::path file;
  std::string dataset;  // empty unless "::" was given
  std::string text;     // as given, for messages
};
Source parse_source(const std::string& spec);

// Reads one 2D image (a 3D dataset or array of one frame is accepted). Throws xrd::Error naming the file (and
// the dataset), the byte offset or header field at fault and what was expected: an unknown format, a
// truncated file, several frames, an unsupported element type or compression.
Image read(const std::string& spec);

// The image as float32 (darks and flats: integer or floating point files; float64 is rounded to float32, as
// pyFAI's engines store them), checked to be width x height; `what` names it in messages ("the dark image").
std::vector<float> read_float(const std::string& spec, size_t width, size_t height, const std::string& what);

// True when the file part of `spec` exists.
bool exists(const std::string& spec);

}  // namespace xrd::image_io
