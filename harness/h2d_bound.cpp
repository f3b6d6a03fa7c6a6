#include "harness/h2d_bound.hpp"

#include <algorithm>
#include <cstdio>

#include "harness/dataset.hpp"
#include "kernels/ocl_device.hpp"

namespace xrd::harness {

double H2dBound::best_GBps() const {
  return pinned_GBps.empty() ? 0.0 : *std::max_element(pinned_GBps.begin(), pinned_GBps.end());
}

double H2dBound::frames_per_s() const { return bytes_per_frame > 0 ? best_GBps() * 1e9 / bytes_per_frame : 0.0; }

nlohmann::json H2dBound::to_json() const {
  return {{"device", device},
          {"bytes_per_frame", bytes_per_frame},
          {"pinned_GBps", pinned_GBps},
          {"pageable_GBps", pageable_GBps},
          {"frames_per_s", frames_per_s()},
          {"method", "64 MiB clEnqueueWriteBuffer from pinned host memory, median of 20, measured before and after "
                     "the rows; the bound uses the higher; bytes_per_frame = the frame files' mean size"}};
}

std::string H2dBound::line() const {
  std::string each;
  for (double g : pinned_GBps) {
    char t[32];
    std::snprintf(t, sizeof t, "%s%.1f", each.empty() ? "" : ", ", g);
    each += t;
  }
  char text[320];
  std::snprintf(text, sizeof text,
                "Host-to-device bound: %.1f GB/s from pinned memory (measured %s) = %.0f frames/s of %.2f MB (%s); "
                "a GPU row reading its frames from the host cannot beat it.",
                best_GBps(), each.c_str(), frames_per_s(), bytes_per_frame / 1e6, device.c_str());
  return text;
}

std::vector<std::string> H2dBound::row_lines(const std::vector<ResultRow>& rows) const {
  std::vector<std::string> out;
  const double bound = frames_per_s();
  if (bound <= 0) return out;
  for (const ResultRow& r : rows) {
    if (r.integrator != "gpu" || !r.valid) continue;
    char text[240];
    std::snprintf(text, sizeof text, "%s: %.0f fps (MAD %.0f) = %.1f%% of the host-to-device bound (%.0f frames/s).",
                  r.id.c_str(), r.fps.median, r.fps.mad, 100.0 * r.fps.median / bound, bound);
    out.emplace_back(text);
  }
  return out;
}

void measure_h2d(H2dBound& b, ocl::DeviceContext& ctx, const Dataset& ds) {
  const ocl::Bandwidth bw = ocl::measure_bandwidth(ctx);
  if (b.pinned_GBps.empty()) {
    b.device = ctx.name();
    b.bytes_per_frame = ds.frames() ? static_cast<double>(ds.bytes) / static_cast<double>(ds.frames()) : 0.0;
    b.pageable_GBps = bw.h2d_pageable_GBps;
  }
  b.pinned_GBps.push_back(bw.h2d_pinned_GBps);
}

}  // namespace xrd::harness
