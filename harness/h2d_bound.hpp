// The host-to-device bound of the GPU rows: how many frames per second the bus can carry from pinned host memory to
// the OpenCL device, measured in the same invocation as the rows (run / table1 with a row on a device), so that a GPU
// row's "% of the bus" is a same-run figure. Bandwidth: ocl::measure_bandwidth (64 MiB writes from pinned memory,
// the median of 20), measured before the rows and again after them; the bound uses the higher of the two. Bytes per
// frame: the frame files' mean size (the dataset's bytes / frames; a CBF's header is ~0.1% of a Pilatus 2M frame,
// so the bound is that much lower than one over the payload bytes alone).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/results.hpp"

namespace xrd::ocl {
class DeviceContext;
}

namespace xrd::harness {

struct Dataset;

struct H2dBound {
  std::string device;
  double bytes_per_frame = 0;
  std::vector<double> pinned_GBps;  // one per measurement (before the rows, after them)
  double pageable_GBps = 0;         // the first measurement's
  double best_GBps() const;         // the highest of pinned_GBps (0 when none)
  double frames_per_s() const;      // best_GBps() * 1e9 / bytes_per_frame
  // results.json's "h2d_bound": {device, bytes_per_frame, pinned_GBps: [...], pageable_GBps, frames_per_s}.
  nlohmann::json to_json() const;
  // "Host-to-device bound: 55.1 GB/s pinned (55.0, 55.1) = 21,800 frames/s of 2.53 MB (NVIDIA H200)."
  std::string line() const;
  // One line per device row of `rows`: "opencl-batched-gpu-MEM: 15,210 fps = 70.1% of the host-to-device bound".
  std::vector<std::string> row_lines(const std::vector<ResultRow>& rows) const;
};

// One more bandwidth measurement on `ctx` added to `b` (the first one also sets device, bytes_per_frame from `ds`,
// and pageable_GBps). Throws xrd::Error naming the device when the copies fail.
void measure_h2d(H2dBound& b, ocl::DeviceContext& ctx, const Dataset& ds);

}  // namespace xrd::harness
