// Writing a synthetic dataset folder: frame_00000.cbf ..., geometry.poni, mask.cbf and manifest.json, frames
// spread over worker threads (the bytes do not depend on how many).
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
};

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
