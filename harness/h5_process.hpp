// What a pattern file's NXprocess says about the reduction (h5_writer.hpp's ProcessInfo), from the inputs the
// reduction used: program, version, commit, date, the PONI text, mask / dark / flat paths with their MD5, bins,
// unit, pixel splitting, solid angle, polarization, normalization, radial range.
#pragma once
#include <filesystem>
#include <string>

#include "harness/h5_writer.hpp"
#include "kernels/integrate.hpp"

namespace xrd::h5 {

struct ReductionInputs {
  std::string program;                    // "xrdbench integrate", "xrdbench run (pool-2-cpu-MEM)", ...
  std::filesystem::path poni, mask, dark, flat;  // empty = none
  integration::Options options;
  std::string engine;                     // the strategy or engine that reduced the frames
  std::filesystem::path source_dir;       // the dataset folder, when there is one
};

// Reads the PONI text and hashes the mask, dark and flat files (MD5, hex). Throws xrd::Error naming a file that
// cannot be read.
ProcessInfo describe_reduction(const ReductionInputs& in);

}  // namespace xrd::h5
