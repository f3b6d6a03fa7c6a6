// A dataset: a folder of CBF frames, or of NXmx HDF5 files (bitshuffle-LZ4 frames; or the path of one master file),
// with the geometry (PONI), the mask and, when `xrdbench dataset synth` made it, manifest.json; loaded once, with the
// integration Setup (CSR matrix + corrections) built once for every row.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/frame_source.hpp"
#include "harness/results.hpp"
#include "kernels/integrate.hpp"

namespace xrd::harness {

struct DatasetOptions {
  std::filesystem::path dir;                   // a folder, or an NXmx master (or single) HDF5 file
  std::optional<std::filesystem::path> poni;   // default: DIR/geometry.poni (required for a plain folder of CBFs)
  std::optional<std::filesystem::path> mask;   // default: DIR/mask.cbf when present, else NXmx pixel_mask, else none
  // Dark current (subtracted) and flat field (divided by): any image_io format, floats kept as float32; none by
  // default.
  std::optional<std::string> dark, flat;
  integration::Options integration;                  // bins, unit, splitting, corrections
  size_t max_frames = 0;                       // 0 = every frame
  int threads = 0;                             // for the matrix build (0 = every core)
  bool quiet = false;                          // no warnings on stderr about skipped frames
};

struct Dataset {
  std::filesystem::path dir;
  std::vector<std::filesystem::path> files;    // the files holding the frames: CBF frames sorted by name (mask and
                                               // non-CBF files excluded), or NXmx master and data files
  std::shared_ptr<const frames::FrameSource> source;  // the frames, as strategies read them
  std::string format = "cbf";                  // "cbf" | "nxmx"
  frames::Codec codec = frames::Codec::byte_offset;
  byte_offset::ElementType element = byte_offset::ElementType::i32;  // of the first frame
  uint64_t bytes = 0;                          // total size of the frame files
  size_t width = 0, height = 0;                // most of the first good frames' shape (see load_dataset)
  std::filesystem::path poni, mask;            // what was used (mask empty when none)
  std::string dark, flat;                      // what was used (empty when none)
  nlohmann::json manifest;                     // manifest.json, or null
  integration::Options integration;
  integration::Setup setup;

  size_t frames() const { return source ? source->size() : files.size(); }
  DatasetInfo info() const;                    // results.json's "dataset" object
};

// Lists the frames, reads the geometry and the mask, builds the Setup. The shape is the one most of the first (up to
// 5) frames that can be read and parsed have: a bad frame, the first included, is skipped with a warning on stderr
// and left for the runs to report. Throws xrd::Error saying what is missing (no CBF files; no frame that can be
// read; no geometry.poni and no --poni; unreadable mask; frames of different shapes than the mask).
Dataset load_dataset(const DatasetOptions& opt);

// The NXmx files of a folder that name frames: its *_master.h5 files, or when there are none, its *.h5 files (single
// files), sorted by name; data files (*_data_NNNNNN.h5) are reached through their masters.
std::vector<std::filesystem::path> list_nxmx(const std::filesystem::path& dir);

// The CBF frame files of a folder, sorted by name: *.cbf regular files and symbolic links (dangling ones included,
// so that the runs report them), except the mask file.
std::vector<std::filesystem::path> list_frames(const std::filesystem::path& dir,
                                               const std::filesystem::path& mask = {});

}  // namespace xrd::harness
