// Writing a synthetic dataset folder: frame_00000.cbf ... (or NXmx HDF5: synth_master.h5 + synth_data_000001.h5 ...,
// bitshuffle-LZ4), geometry.poni, mask.cbf and manifest.json, frames spread over worker threads (the bytes do not
// depend on how many).
#pragma once
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "datasets/manifest.hpp"
#include "datasets/synth.hpp"

namespace xrd::synth {

struct DatasetOptions {
  std::filesystem::path out;  // created when missing
  int threads = 1;            // >= 1
  // Called from the worker threads after each frame is written (must be thread-safe), e.g. a progress line.
  std::function<void()> on_frame;
  std::string tool_version;   // recorded in the manifest (xrdbench's version)
  // "cbf": a byte-offset CBF file per frame. "h5": NXmx master + data files, bitshuffle-LZ4 chunks of `element`
  // pixels (u16 / u32: negative pixels and those >= 2^N - 1 are written as 2^N - 1, the overflow / invalid flag),
  // frames_per_file frames per data file, the mask also as the master's pixel_mask.
  std::string format = "cbf";
  byte_offset::ElementType element = byte_offset::ElementType::u32;
  size_t frames_per_file = 1000;
};

// The NXmx master file `dataset synth --format h5` writes.
inline constexpr const char* kMasterName = "synth_master.h5";

struct DatasetResult {
  manifest::Manifest manifest;
  double seconds = 0;           // frames only (after the geometry tables are built)
  double setup_seconds = 0;     // geometry tables, PONI, mask
  size_t stale_frames = 0;      // frame_*.cbf files in the folder beyond this dataset (left alone)
  double frames_per_second() const { return seconds > 0 ? double(manifest.frames) / seconds : 0; }
};

// The name of frame i: "frame_00042.cbf" (at least 5 digits).
std::string frame_name(size_t i);

// Writes the dataset. Throws std::invalid_argument on bad parameters (frames 0, threads < 1) and xrd::Error naming
// the file on I/O errors (unwritable folder, disk full). manifest.json is written last: its presence means the
// dataset is complete; a previous manifest.json is removed first.
DatasetResult write_dataset(const Params& p, const DatasetOptions& opt);

}  // namespace xrd::synth
