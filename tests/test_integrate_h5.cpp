// The NeXus writer: layout and attributes, frames written out of order, float32/float64, errors.
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "harness/h5_writer.hpp"
#include "base/error.hpp"
#include "tests/test_integrate_fixture.hpp"
#include "tests/test_support.hpp"

namespace {

// Small readers on the HDF5 C API (what a user's h5py would see).
std::vector<double> read_doubles(hid_t file, const char* path, std::vector<hsize_t>* dims = nullptr) {
  const hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  REQUIRE(d >= 0);
  const hid_t s = H5Dget_space(d);
  const int rank = H5Sget_simple_extent_ndims(s);
  std::vector<hsize_t> dd(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(s, dd.data(), nullptr);
  hsize_t n = 1;
  for (auto x : dd) n *= x;
  std::vector<double> v(n);
  REQUIRE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  if (dims) *dims = dd;
  H5Sclose(s);
  H5Dclose(d);
  return v;
}

std::vector<std::string> read_strings(hid_t file, const char* path) {
  const hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  REQUIRE(d >= 0);
  const hid_t s = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(s, &n, nullptr);
  const hid_t t = H5Dget_type(d);
  std::vector<char*> p(n, nullptr);
  REQUIRE(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) >= 0);
  std::vector<std::string> out;
  for (char* c : p) out.emplace_back(c ? c : "");
  H5Dvlen_reclaim(t, s, H5P_DEFAULT, p.data());
  H5Tclose(t);
  H5Sclose(s);
  H5Dclose(d);
  return out;
}

hid_t dataset_type_class_size(hid_t file, const char* path, size_t* size) {
  const hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  const hid_t t = H5Dget_type(d);
  *size = H5Tget_size(t);
  const hid_t c = H5Tget_class(t);
  H5Tclose(t);
  H5Dclose(d);
  return c;
}

}  // namespace

TEST_CASE("NxWriter: NeXus layout, frames out of order, float32 by default") {
  const auto dir = xrd::test::temp_dir("h5_layout");
  const auto path = dir / "out.h5";
  xrd::h5::NxLayout layout;
  layout.frames = 3;
  layout.radial = {0.5, 1.5, 2.5, 3.5};
  layout.radial_unit = "2th_deg";
  layout.source_files = {"a.cbf", "b.cbf", "c.cbf"};
  {
    xrd::h5::NxWriter w(path, layout);
    CHECK(w.frames() == 3);
    CHECK(w.bins() == 4);
    w.write(2, std::vector<double>{20, 21, 22, 23}, std::vector<double>{2, 2, 2, 2});
    w.write(0, std::vector<double>{0, 1, 2, 3.25}, std::vector<double>{0.5, 0.5, 0.5, 0.5});
    // frame 1 never written: stays NaN, valid 0
    w.close();
    CHECK_THROWS_AS(w.write(1, std::vector<double>{1, 1, 1, 1}), xrd::Error);
  }
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  CHECK(xrd::test::read_string_attr(f, "/", "default") == "entry");
  CHECK(xrd::test::read_string_attr(f, "/entry", "NX_class") == "NXentry");
  CHECK(xrd::test::read_string_attr(f, "/entry", "default") == "integrate");
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate", "NX_class") == "NXdata");
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate", "signal") == "intensity");
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate/radial", "units") == "deg");  // NeXus form
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate/radial", "pyfai_unit") == "2th_deg");
  CHECK(xrd::test::read_string_attr(f, "/entry/process", "NX_class") == "NXprocess");
  std::vector<hsize_t> dims;
  const auto inten = read_doubles(f, "/entry/integrate/intensity", &dims);
  CHECK(dims == std::vector<hsize_t>{3, 4});
  for (size_t i : {0, 1, 2, 3, 8, 9, 10, 11})
    CHECK(inten[i] == std::vector<double>{0, 1, 2, 3.25, 0, 0, 0, 0, 20, 21, 22, 23}[i]);
  for (size_t i = 4; i < 8; ++i) CHECK(std::isnan(inten[i]));  // never written: NaN, never a silent 0
  CHECK(read_doubles(f, "/entry/integrate/valid") == std::vector<double>{1, 0, 1});
  const auto count = read_doubles(f, "/entry/integrate/count");
  CHECK(std::isnan(count[0]));  // written without a count: that row stays NaN
  CHECK(read_doubles(f, "/entry/integrate/sigma")[8] == 2.0);
  CHECK(read_doubles(f, "/entry/integrate/intensity_errors")[0] == 0.5);  // NeXus name, a link to sigma
  CHECK(read_doubles(f, "/entry/integrate/radial") == layout.radial);
  CHECK(read_strings(f, "/entry/integrate/source_files") == layout.source_files);
  size_t size = 0;
  CHECK(dataset_type_class_size(f, "/entry/integrate/intensity", &size) == H5T_FLOAT);
  CHECK(size == 4);
  // Chunks of up to 32 consecutive frames (the file has 3) by the whole pattern.
  const hid_t d = H5Dopen2(f, "/entry/integrate/intensity", H5P_DEFAULT);
  const hid_t plist = H5Dget_create_plist(d);
  hsize_t chunk[2] = {0, 0};
  CHECK(H5Pget_chunk(plist, 2, chunk) == 2);
  CHECK(chunk[0] == 3);
  CHECK(chunk[1] == 4);
  H5Pclose(plist);
  H5Dclose(d);
  H5Fclose(f);
}

TEST_CASE("NxWriter: float64, no sigma, names set later, errors say what is wrong") {
  const auto dir = xrd::test::temp_dir("h5_options");
  const auto path = dir / "out.h5";
  xrd::h5::NxLayout layout;
  layout.frames = 2;
  layout.float64 = true;
  layout.with_sigma = false;
  layout.radial = {1, 2};
  layout.radial_unit = "q_nm^-1";
  xrd::h5::NxWriter w(path, layout);
  w.write(1, std::vector<double>{1.0 / 3, 2});
  w.set_source(1, "second.cbf");
  CHECK_THROWS_WITH(w.write(2, std::vector<double>{1, 2}), Catch::Contains("frame 2 is out of range"));
  CHECK_THROWS_WITH(w.write(0, std::vector<double>{1, 2, 3}), Catch::Contains("3 bins"));
  CHECK_THROWS_WITH(w.write(0, std::vector<double>{1, 2}, std::vector<double>{1}), Catch::Contains("sigma"));
  w.close();
  CHECK_THROWS_AS(w.close(), xrd::Error);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  CHECK(read_doubles(f, "/entry/integrate/intensity")[2] == 1.0 / 3);  // float64 keeps every digit
  CHECK(H5Lexists(f, "/entry/integrate/sigma", H5P_DEFAULT) == 0);
  CHECK(read_strings(f, "/entry/integrate/source_files") == std::vector<std::string>{"", "second.cbf"});
  H5Fclose(f);
  CHECK_THROWS_WITH(xrd::h5::NxWriter(dir / "no" / "such" / "dir.h5", layout),
                    Catch::Contains("cannot create"));
}
