// Shared by the integration tests: the real Pilatus3 2M LaB6 frame, its geometry and the detector mask; a
// small tilted test geometry; CSV and HDF5 attribute readers. Images are decoded with the scalar reference
// decoder: these tests are about integration, and must not depend on the fast decoders (tested on their own).
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/cbf.hpp"
#include "datasets/poni.hpp"
#include "harness/validate.hpp"
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

using harness::rel_diff;  // |a - b| / max(|a|, |b|), 0 when both are 0

// A CSV file of numbers with one header line (returned in *header); throws on an unreadable file.
inline std::vector<std::vector<double>> read_csv(const std::filesystem::path& p,
                                                 std::string* header = nullptr) {
  std::ifstream f(p);
  if (!f) throw std::runtime_error("cannot open " + p.string());
  std::string line;
  std::getline(f, line);
  if (header) *header = line;
  std::vector<std::vector<double>> rows;
  while (std::getline(f, line)) {
    std::vector<double> r;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) r.push_back(std::stod(c));
    rows.push_back(std::move(r));
  }
  return rows;
}

// A small detector (97 x 131 pixels of 1 mm at 5 cm) with the beam inside it and tilts, so that rings cross
// pixels at every angle.
inline constexpr size_t kSmallW = 97, kSmallH = 131;
inline integration::Geometry small_geometry() {
  integration::Geometry g;
  g.dist = 0.05;
  g.pixel1 = g.pixel2 = 1e-3;
  g.poni1 = 0.0603;
  g.poni2 = 0.0452;
  g.rot1 = 0.02;
  g.rot2 = -0.03;
  g.rot3 = 0.1;
  g.wavelength = 1e-10;
  return g;
}

// A string attribute of an HDF5 object (fixed or variable length), as a user's h5py would read it.
inline std::string read_string_attr(hid_t file, const char* obj, const char* name) {
  const hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) throw std::runtime_error(std::string("no attribute ") + obj + "@" + name);
  const hid_t t = H5Aget_type(a);
  std::string s;
  if (H5Tis_variable_str(t) > 0) {
    char* p = nullptr;
    if (H5Aread(a, t, &p) < 0 || !p) throw std::runtime_error(std::string("cannot read ") + obj + "@" + name);
    s = p;
    H5free_memory(p);
  } else {
    s.resize(H5Tget_size(t));
    H5Aread(a, t, s.data());
    s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
  }
  H5Tclose(t);
  H5Aclose(a);
  return s;
}

struct Lab6 {
  cbf::Image image;
  integration::Geometry geometry;
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
