// The real Pilatus3 2M LaB6 frame, its geometry and the detector mask, shared by the integration tests.
// Images are decoded with the scalar reference decoder: these tests are about integration, and must not
// depend on the fast decoders (tested on their own).
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/poni.hpp"
#include "kernels/integrate.hpp"
#include "tests/test_support.hpp"

namespace xrd::test {

inline cbf::Image read_reference_image(const std::filesystem::path& p) {
  std::vector<uint8_t> bytes;
  cbf::read_file(p, bytes);
  const cbf::CbfView v = cbf::parse(bytes, p.string());
  cbf::Image img;
  img.width = v.binary.width;
  img.height = v.binary.height;
  img.pixels.resize(img.width * img.height);
  cbf::decode(v, img.pixels, /*reference=*/true);
  return img;
}

struct Lab6 {
  cbf::Image image;
  integ::Geometry geometry;
  std::vector<uint8_t> mask_file;  // pilatus2m_mask.cbf, 1 = masked
  static const Lab6& get() {
    static const Lab6 f = [] {
      Lab6 x;
      const auto dir = fixtures();
      x.image = read_reference_image(dir / "real" / "pilatus3x2m_lab6_300_00_0001p.cbf");
      x.geometry = poni::read(dir / "real" / "pilatus3x2m_lab6_300_00_0001p.poni");
      const cbf::Image m = read_reference_image(dir / "pilatus2m_mask.cbf");
      x.mask_file.resize(m.pixels.size());
      for (size_t i = 0; i < m.pixels.size(); ++i) x.mask_file[i] = m.pixels[i] != 0;
      return x;
    }();
    return f;
  }
};

}  // namespace xrd::test
