// A NeXus (HDF5) writer for integrated patterns: one NXentry holding one NXdata group with the patterns as a
// frames x bins dataset (one chunk per frame), sigma, the radial axis with its unit and the source file
// names. Frames may be written in any order, from any thread (calls are serialized inside); nothing is
// allocated per frame.
//
//   /entry                 NX_class=NXentry, default=integrate
//   /entry/integrate       NX_class=NXdata, signal=intensity, axes=[".", "radial"], radial_indices=1
//     intensity            frames x bins, float32 (or float64), chunks of 1 x bins
//     sigma                frames x bins, same type (omitted when with_sigma is false); intensity_errors
//     links to it radial               bins, float64, units=<unit name, e.g. "q_nm^-1">, long_name
//     source_files         frames, variable-length UTF-8 strings
#pragma once
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/integrate.hpp"

namespace xrd::h5 {

struct NxLayout {
  size_t frames = 0;     // rows of intensity / sigma / source_files
  bool float64 = false;  // intensity and sigma as float64 (default float32)
  bool with_sigma = true;
  std::string radial_unit;                // written as radial@units, e.g. "2th_deg", "q_nm^-1"
  std::vector<double> radial;             // bin centres; its size is the number of bins
  std::vector<std::string> source_files;  // frames names, or empty (then set_source(), or left empty)
  std::string entry = "entry", data = "integrate";
  std::string program = "xrdbench";  // /entry/program_name
};

class NxWriter {
 public:
  // Creates (truncates) `path` with the layout's groups and datasets. Throws xrd::Error naming the file.
  NxWriter(const std::filesystem::path& path, const NxLayout& layout);
  ~NxWriter();  // closes the file if close() was not called (errors are then swallowed)
  NxWriter(const NxWriter&) = delete;
  NxWriter& operator=(const NxWriter&) = delete;

  size_t frames() const;
  size_t bins() const;

  // Row `frame` of intensity (and sigma, when present: sigma.size() must then be bins(); empty sigma leaves
  // the row at 0). Throws xrd::Error on a frame out of range, a size mismatch or an HDF5 failure.
  void write(size_t frame, std::span<const double> intensity, std::span<const double> sigma = {});
  void write(size_t frame, const integ::Pattern& p) { write(frame, p.intensity, p.sigma); }
  void set_source(size_t frame, const std::string& name);
  // Flushes and closes; later calls throw. Throws xrd::Error on failure.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xrd::h5
