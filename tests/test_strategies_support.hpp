// Tiny datasets for the strategy, runner and table1 tests: small powder images written with cbf::write (rings,
// background, a gap row at -1, a bad pixel at -2, a hot pixel), a PONI geometry and a mask, so every strategy runs
// in milliseconds; and a sink that keeps what a strategy delivered.
#pragma once
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/poni.hpp"
#include "harness/dataset.hpp"
#include "harness/validate.hpp"
#include "strategies/strategy.hpp"
#include "tests/test_support.hpp"

namespace xrd::test {

inline constexpr size_t kTinyW = 173, kTinyH = 131;

inline std::vector<int32_t> tiny_frame(size_t frame, size_t w = kTinyW, size_t h = kTinyH) {
  std::vector<int32_t> px(w * h);
  const double cx = w * 0.45, cy = h * 0.55;
  uint64_t s = 0x9E3779B97F4A7C15ull * (frame + 1);
  for (size_t y = 0; y < h; ++y)
    for (size_t x = 0; x < w; ++x) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      const double r = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
      double v = 20 + 200 * std::exp(-r / 40);
      for (double r0 : {25.0, 47.0, 70.0}) v += (300.0 + 40.0 * frame) * std::exp(-0.5 * std::pow((r - r0) / 1.5, 2));
      px[y * w + x] = static_cast<int32_t>(v + static_cast<double>(s % 13));
    }
  for (size_t x = 0; x < w; ++x) px[60 * w + x] = -1;  // a gap row
  px[10 * w + 10] = -2;                                // a bad pixel
  px[90 * w + 120] = (1 << 20) + 7;                    // a hot pixel: 32-bit escapes
  return px;
}

// DIR with frame_00000.cbf ... , geometry.poni and mask.cbf. corrupt: index of a frame whose payload is cut short
// (the file is truncated inside the binary section), or -1.
inline std::filesystem::path make_tiny_dataset(const std::string& name, size_t frames, int corrupt = -1) {
  auto dir = temp_dir(name);
  for (size_t i = 0; i < frames; ++i) {
    char fn[32];
    std::snprintf(fn, sizeof fn, "frame_%05zu.cbf", i);
    const auto px = tiny_frame(i);
    cbf::write(dir / fn, px, kTinyW, kTinyH);
    if (static_cast<int>(i) == corrupt) {
      auto bytes = read_bytes(dir / fn);
      // Flip a run of payload bytes near the end into 0x80 escapes that run past the end of the stream.
      const auto view = cbf::parse(bytes, fn);
      const size_t end = view.binary.payload_offset + view.binary.binary_size;
      bytes[end - 1] = 0x80;
      write_bytes(dir / fn, bytes);
    }
  }
  integration::Geometry g;
  g.dist = 0.05;
  g.poni1 = kTinyH * 0.55 * 172e-6;
  g.poni2 = kTinyW * 0.45 * 172e-6;
  g.wavelength = 1e-10;
  g.pixel1 = g.pixel2 = 172e-6;
  g.detector = "Pilatus";
  std::ofstream(dir / "geometry.poni") << poni::format(g);
  std::vector<int32_t> mask(kTinyW * kTinyH, 0);
  mask[5 * kTinyW + 7] = 1;
  mask[100 * kTinyW + 150] = 1;
  cbf::write(dir / "mask.cbf", mask, kTinyW, kTinyH);
  return dir;
}

inline harness::Dataset load_tiny(const std::filesystem::path& dir, int bins = 100) {
  harness::DatasetOptions o;
  o.dir = dir;
  o.integration.bins = bins;
  o.integration.unit = integration::Unit::tth_deg;
  return harness::load_dataset(o);
}

// Keeps every delivered pattern (for comparison) and the order of deliveries.
struct CollectingSink : strategies::FrameSink {
  harness::PatternSet patterns;
  std::vector<size_t> order;
  std::vector<std::pair<size_t, std::string>> errors;  // frame, "file: reason"
  CollectingSink(size_t frames, size_t bins) { patterns.reset(frames, bins); }
  void pattern(size_t frame, const integration::Pattern& p) override {
    patterns.store(frame, p);
    order.push_back(frame);
  }
  void error(size_t frame, const std::string& file, const std::string& reason) override {
    errors.emplace_back(frame, file + ": " + reason);
    order.push_back(frame);
  }
};

}  // namespace xrd::test
