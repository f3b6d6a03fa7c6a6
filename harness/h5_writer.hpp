// A NeXus (HDF5) writer for integrated patterns, and its reader (what the runner validates: the file read back).
// Frames may be written in any order, from any thread (calls are serialized inside); nothing is allocated per
// frame. Rows never written (failed frames, frames not reached) read back as NaN with valid = 0, never as zeros.
//
//   /entry                 NX_class=NXentry, default=integrate
//     program_name, start_time
//   /entry/integrate       NX_class=NXdata, signal=intensity
//       without a scan:    axes=[".", "radial"], radial_indices=1; signal frames x bins
//       with a scan:       axes=["rotation", "translation", "radial"] (+ *_indices); signal rotations x
//                          translations x bins, frame i at (i / translations, i % translations): an XRD-CT sinogram
//     intensity            float32 (or float64), one chunk per frame, fill NaN; interpretation=spectrum
//     sigma                same shape; intensity_errors is a second (hard) link to it, the NeXus name
//     count                same shape: the pixel count of each bin (sum of the split fractions)
//     valid                the signal's shape without radial, uint8: 1 once the frame's row is written, else 0
//     radial               bins, float64, units (NeXus: "1/nm", "1/angstrom", "deg", "rad", "mm"),
//                          pyfai_unit ("q_nm^-1", ...), long_name
//     rotation, translation (scan only) the axis values, with units when known
//     source_files         frames, variable-length UTF-8 strings
//   /entry/process         NX_class=NXprocess: program, version, date
//     reduction            NX_class=NXparameters: the commit and every parameter needed to redo the reduction
//     geometry             NX_class=NXnote: the PONI text (type text/plain, file_name, data)
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kernels/integrate.hpp"

namespace xrd::h5 {

// The NeXus unit of a pyFAI radial unit name: "q_nm^-1" -> "1/nm", "q_A^-1" -> "1/angstrom", "2th_deg" -> "deg",
// "2th_rad" -> "rad", "r_mm" -> "mm"; an unknown name is returned unchanged.
std::string nexus_unit(const std::string& pyfai_unit);
// "q (1/nm)", "2theta (deg)", ... for long_name.
std::string radial_long_name(const std::string& pyfai_unit);

// An XRD-CT scan: frames in rotation-major order. rotations == 0: no scan layout (frames x bins).
struct ScanLayout {
  size_t rotations = 0, translations = 0;
  std::vector<double> rotation;     // rotations values, or empty (then 0, 1, ... without units)
  std::string rotation_units = "deg";
  std::vector<double> translation;  // translations values, or empty (then 0, 1, ... without units)
  std::string translation_units = "mm";
  std::string rotation_label, translation_label;  // long_name when not empty (e.g. "translation (sample radii)")
  bool active() const { return rotations > 0 && translations > 0; }
};

// What the NXprocess group says: everything needed to redo the reduction.
struct ProcessInfo {
  std::string program = "xrdbench", version, commit, date;  // date: ISO 8601; empty = now
  std::string poni_text, poni_file;                          // the geometry as read
  std::vector<std::pair<std::string, std::string>> text;    // NXparameters string fields (mask_file, mask_md5, ...)
  std::vector<std::pair<std::string, double>> numbers;      // NXparameters numeric fields (bins, ...)
};

struct NxLayout {
  size_t frames = 0;     // rows of intensity / sigma / source_files
  bool float64 = false;  // intensity and sigma as float64 (default float32)
  bool with_sigma = true;
  std::string radial_unit;                // pyFAI's name, e.g. "2th_deg", "q_nm^-1" (radial@pyfai_unit)
  std::vector<double> radial;             // bin centres; its size is the number of bins
  std::vector<std::string> source_files;  // frames names, or empty (then set_source(), or left empty)
  ScanLayout scan;                        // frames <= rotations * translations when active
  ProcessInfo process;
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
  // The frames stored in the file chunk that holds `frame` (consecutive frames of one row of a scan): {first, count}.
  // Writing a chunk's frames with one write_rows is the cheapest write (the write-behind sink collects them).
  std::pair<size_t, size_t> chunk_of(size_t frame) const;
  const std::string& path() const;

  // Row `frame` of intensity (and sigma / count when given: each must then have bins() values; an empty span leaves
  // that row at NaN), then valid[frame] = 1. Throws xrd::Error on a frame out of range, a size mismatch or an HDF5
  // failure (disk full: the message names the file and says so).
  void write(size_t frame, std::span<const double> intensity, std::span<const double> sigma = {},
             std::span<const double> count = {});
  void write(size_t frame, const integration::Pattern& p) { write(frame, p.intensity, p.sigma, p.count); }
  // Rows first .. first+n-1 at once (intensity: n x bins() values, row after row; sigma / count the same or empty),
  // then their valid = 1: one HDF5 write per dataset and per run of frames inside one row of a raster scan, where
  // write() makes one per dataset and frame (the write-behind sink's batches). Same errors as write().
  void write_rows(size_t first, size_t n, std::span<const double> intensity, std::span<const double> sigma = {},
                  std::span<const double> count = {});
  void set_source(size_t frame, const std::string& name);
  // Writes what is buffered to the file (the file is then readable as it stands, e.g. if the process is killed).
  void flush();
  // Flushes and closes; later calls throw. Throws xrd::Error on failure.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A pattern file read back, frames in frame order (a scan layout is flattened rotation-major).
struct NxPatterns {
  size_t frames = 0, bins = 0;
  std::vector<double> radial, intensity, sigma, count;  // frames * bins (sigma / count empty when absent)
  std::vector<uint8_t> valid;                            // frames (all 1 when the file has no valid dataset)
  std::string radial_unit;                               // radial@pyfai_unit, else radial@units
};
// Reads /<entry>/<data>. Throws xrd::Error naming the file and the dataset on anything missing or malformed.
NxPatterns read_patterns(const std::filesystem::path& path, const std::string& entry = "entry",
                         const std::string& data = "integrate");

}  // namespace xrd::h5
