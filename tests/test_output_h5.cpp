// The pattern file's writer and reader (harness/h5_writer): the scan layout, NaN + valid = 0 for frames never
// written, read_patterns() giving back what was written, NXprocess contents, clear errors.
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harness/h5_process.hpp"
#include "harness/h5_writer.hpp"
#include "base/error.hpp"
#include "tests/test_integrate_fixture.hpp"
#include "tests/test_support.hpp"

namespace {

std::string string_dataset(hid_t f, const char* path) {
  const hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
  REQUIRE(d >= 0);
  const hid_t t = H5Dget_type(d);
  char* s = nullptr;
  REQUIRE(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0);
  std::string out = s ? s : "";
  H5free_memory(s);
  H5Tclose(t);
  H5Dclose(d);
  return out;
}

}  // namespace

TEST_CASE("NxWriter: XRD-CT scan layout, frames not reached are NaN and invalid, read back as written") {
  const auto dir = xrd::test::temp_dir("output_scan");
  const auto path = dir / "scan.h5";
  xrd::h5::NxLayout layout;
  layout.frames = 5;  // 2 rotations x 3 translations: the last cell never reached
  layout.radial = {1, 2, 3};
  layout.radial_unit = "q_A^-1";
  layout.scan.rotations = 2;
  layout.scan.translations = 3;
  layout.scan.rotation = {0, 90};
  layout.scan.translation = {-1, 0, 1};
  {
    xrd::h5::NxWriter w(path, layout);
    for (size_t i = 0; i < 5; ++i) {
      if (i == 2) continue;  // a failed frame
      const double v = static_cast<double>(i);
      w.write(i, std::vector<double>{v, v + 0.5, v + 0.25}, std::vector<double>{1, 1, 1},
              std::vector<double>{10, 20, 30});
    }
    w.close();
  }
  const auto r = xrd::h5::read_patterns(path);
  CHECK(r.frames == 6);
  CHECK(r.bins == 3);
  CHECK(r.radial_unit == "q_A^-1");
  CHECK(r.valid == std::vector<uint8_t>{1, 1, 0, 1, 1, 0});
  CHECK(r.intensity[3 * 3 + 1] == 3.5);  // frame 3 = rotation 1, translation 0
  CHECK(r.count[4 * 3 + 2] == 30);
  for (size_t b = 0; b < 3; ++b) {
    CHECK(std::isnan(r.intensity[2 * 3 + b]));
    CHECK(std::isnan(r.sigma[2 * 3 + b]));
    CHECK(std::isnan(r.intensity[5 * 3 + b]));
  }
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate/radial", "units") == "1/angstrom");
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate/rotation", "units") == "deg");
  CHECK(xrd::test::read_string_attr(f, "/entry/integrate/translation", "units") == "mm");
  const hid_t d = H5Dopen2(f, "/entry/integrate/intensity", H5P_DEFAULT);
  const hid_t s = H5Dget_space(d);
  hsize_t dims[3] = {0, 0, 0};
  CHECK(H5Sget_simple_extent_ndims(s) == 3);
  H5Sget_simple_extent_dims(s, dims, nullptr);
  CHECK(dims[0] == 2);
  CHECK(dims[1] == 3);
  CHECK(dims[2] == 3);
  H5Sclose(s);
  H5Dclose(d);
  H5Fclose(f);
}

TEST_CASE("NxWriter: a scan too small for the frames, or with the wrong number of axis values, is refused") {
  const auto dir = xrd::test::temp_dir("output_scan_bad");
  xrd::h5::NxLayout layout;
  layout.frames = 7;
  layout.radial = {1, 2};
  layout.radial_unit = "2th_deg";
  layout.scan.rotations = 2;
  layout.scan.translations = 3;
  CHECK_THROWS_WITH(xrd::h5::NxWriter(dir / "a.h5", layout), Catch::Contains("7 frames do not fit"));
  layout.frames = 6;
  layout.scan.rotation = {1, 2, 3};
  CHECK_THROWS_WITH(xrd::h5::NxWriter(dir / "b.h5", layout), Catch::Contains("3 rotation values"));
  CHECK_THROWS_WITH(xrd::h5::read_patterns(dir / "none.h5"), Catch::Contains("none.h5"));
}

TEST_CASE("NXprocess: the PONI text, the mask's MD5 and the options") {
  const auto dir = xrd::test::temp_dir("output_process");
  std::ofstream(dir / "g.poni") << "poni_version: 2\nDistance: 0.1\n";
  std::ofstream(dir / "m.cbf") << "abc";  // MD5 of "abc" is 900150983cd24fb0d6963f7d28e17f72
  xrd::h5::ReductionInputs in;
  in.program = "test";
  in.poni = dir / "g.poni";
  in.mask = dir / "m.cbf";
  in.options.polarization = 0.99;
  std::ofstream(dir / "f.h5") << "abc";
  in.flat = (dir / "f.h5").string() + "::/entry/flat";  // an image_io name: file + dataset
  xrd::h5::NxLayout layout;
  layout.frames = 1;
  layout.radial = {1};
  layout.radial_unit = "2th_deg";
  layout.process = xrd::h5::describe_reduction(in);
  xrd::h5::NxWriter(dir / "p.h5", layout).close();
  const hid_t f = H5Fopen((dir / "p.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  CHECK(string_dataset(f, "/entry/process/geometry/data") == "poni_version: 2\nDistance: 0.1\n");
  CHECK(string_dataset(f, "/entry/process/reduction/mask_md5") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(string_dataset(f, "/entry/process/reduction/dark_file") == "none");
  CHECK(string_dataset(f, "/entry/process/reduction/flat_md5") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK_THAT(string_dataset(f, "/entry/process/reduction/flat_file"), Catch::EndsWith("f.h5::/entry/flat"));
  CHECK(string_dataset(f, "/entry/process/reduction/pyfai_unit") == "2th_deg");
  CHECK(string_dataset(f, "/entry/process/reduction/radial_unit") == "deg");
  CHECK(string_dataset(f, "/entry/process/program") == "test");
  CHECK(!string_dataset(f, "/entry/process/date").empty());
  H5Fclose(f);
  in.mask = dir / "missing.cbf";
  CHECK_THROWS_WITH(xrd::h5::describe_reduction(in), Catch::Contains("missing.cbf"));
}

TEST_CASE("NxWriter::write_rows: runs across a scan's rows give the file write() gives, float32 and float64") {
  const auto dir = xrd::test::temp_dir("output_rows");
  for (const bool f64 : {false, true}) {
    INFO("float64 " << f64);
    xrd::h5::NxLayout layout;
    layout.frames = 12;  // 3 rotations x 4 translations
    layout.radial = {1, 2, 3};
    layout.radial_unit = "q_A^-1";
    layout.float64 = f64;
    layout.scan.rotations = 3;
    layout.scan.translations = 4;
    layout.scan.rotation = {0, 60, 120};
    layout.scan.translation = {-1, 0, 1, 2};
    auto values = [](size_t frame, double k) {
      const double v = static_cast<double>(frame) * 1.1 + k;
      return std::vector<double>{v, v + 0.125, v + 1.0 / 3.0};  // 1/3: float32 rounding must agree too
    };
    const auto one = dir / (std::string("one_") + (f64 ? "64" : "32") + ".h5");
    const auto rows = dir / (std::string("rows_") + (f64 ? "64" : "32") + ".h5");
    {
      xrd::h5::NxWriter w(one, layout);
      for (size_t i = 1; i < 10; ++i) w.write(i, values(i, 0), values(i, 100), values(i, 200));
      w.close();
    }
    {
      xrd::h5::NxWriter w(rows, layout);
      std::vector<double> in, sg, ct;
      for (size_t i = 1; i < 10; ++i) {  // frames 1..9: rows 0, 1 and 2 of the scan, cut twice
        for (double v : values(i, 0)) in.push_back(v);
        for (double v : values(i, 100)) sg.push_back(v);
        for (double v : values(i, 200)) ct.push_back(v);
      }
      w.write_rows(1, 9, in, sg, ct);
      CHECK_THROWS_WITH(w.write_rows(10, 3, std::vector<double>(9, 1.0)),
                        Catch::Contains(rows.filename().string()) && Catch::Contains("frames 10..12 are out of range"));
      CHECK_THROWS_WITH(w.write_rows(0, 2, std::vector<double>(5, 1.0)),
                        Catch::Contains("2 patterns have 5 values, the file 6 (3 bins)"));
      w.close();
    }
    const auto a = xrd::h5::read_patterns(one), b = xrd::h5::read_patterns(rows);
    CHECK(b.valid == std::vector<uint8_t>{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0});
    CHECK(a.valid == b.valid);
    REQUIRE(a.intensity.size() == b.intensity.size());
    for (size_t i = 0; i < a.intensity.size(); ++i) {
      INFO("value " << i);
      if (std::isnan(a.intensity[i])) {
        CHECK(std::isnan(b.intensity[i]));
        continue;
      }
      CHECK(a.intensity[i] == b.intensity[i]);
      CHECK(a.sigma[i] == b.sigma[i]);
      CHECK(a.count[i] == b.count[i]);
    }
    CHECK(b.intensity[5 * 3 + 1] == Approx(5 * 1.1 + 0.125));  // frame 5 = rotation 1, translation 1
  }
}

TEST_CASE("NxWriter::write_rows: a whole chunk's frames (written as the chunk's bytes) read back as write() writes them") {
  const auto dir = xrd::test::temp_dir("output_chunks");
  for (const bool scan : {false, true})
    for (const bool f64 : {false, true}) {
      INFO("scan " << scan << ", float64 " << f64);
      xrd::h5::NxLayout layout;
      layout.radial = {1, 2, 3, 4, 5};
      layout.radial_unit = "q_nm^-1";
      layout.float64 = f64;
      if (scan) {  // 3 rotations x 40 translations: chunks of 32 and 8 frames in each row of the scan
        layout.frames = 120;
        layout.scan.rotations = 3;
        layout.scan.translations = 40;
      } else {  // chunks 0..31, 32..63, 64..69 (the edge chunk: 6 frames of 32)
        layout.frames = 70;
      }
      const size_t bins = layout.radial.size();
      auto values = [&](size_t frame, double k) {
        std::vector<double> v(bins);
        for (size_t b = 0; b < bins; ++b) v[b] = static_cast<double>(frame) * 1.1 + k + static_cast<double>(b) / 3.0;
        return v;
      };
      const std::string tag = std::string(scan ? "scan_" : "list_") + (f64 ? "64" : "32");
      const auto one = dir / ("one_" + tag + ".h5"), chunks = dir / ("chunks_" + tag + ".h5");
      // Frames written: all but the chunk holding frame 32 (never written) and frame 3 (its chunk written in two runs).
      std::vector<uint8_t> expect_valid(layout.frames, 1);
      {
        xrd::h5::NxWriter w(chunks, layout);
        if (scan) {
          CHECK(w.chunk_of(0) == std::pair<size_t, size_t>{0, 32});
          CHECK(w.chunk_of(35) == std::pair<size_t, size_t>{32, 8});
          CHECK(w.chunk_of(41) == std::pair<size_t, size_t>{40, 32});
          CHECK(w.chunk_of(119) == std::pair<size_t, size_t>{112, 8});
        } else {
          CHECK(w.chunk_of(31) == std::pair<size_t, size_t>{0, 32});
          CHECK(w.chunk_of(69) == std::pair<size_t, size_t>{64, 6});
        }
        for (size_t f = 0; f < layout.frames;) {
          const auto [first, n] = w.chunk_of(f);
          REQUIRE(first == f);
          f = first + n;
          if (first <= 32 && 32 < first + n) {
            for (size_t i = first; i < first + n; ++i) expect_valid[i] = 0;
            continue;
          }
          std::vector<double> in, sg, ct;
          for (size_t i = first; i < first + n; ++i) {
            if (i == 3) continue;
            for (double v : values(i, 0)) in.push_back(v);
            for (double v : values(i, 100)) sg.push_back(v);
            for (double v : values(i, 200)) ct.push_back(v);
          }
          if (first == 0) {  // frames 0..2, then 4..31: runs that are not a whole chunk
            w.write_rows(0, 3, std::span(in).first(3 * bins), std::span(sg).first(3 * bins), std::span(ct).first(3 * bins));
            w.write_rows(4, n - 4, std::span(in).subspan(3 * bins), std::span(sg).subspan(3 * bins),
                         std::span(ct).subspan(3 * bins));
            expect_valid[3] = 0;
          } else {
            w.write_rows(first, n, in, sg, ct);
          }
        }
        w.close();
      }
      {
        xrd::h5::NxWriter w(one, layout);
        for (size_t i = 0; i < layout.frames; ++i)
          if (expect_valid[i]) w.write(i, values(i, 0), values(i, 100), values(i, 200));
        w.close();
      }
      const auto a = xrd::h5::read_patterns(one), b = xrd::h5::read_patterns(chunks);
      CHECK(b.valid == expect_valid);
      CHECK(a.valid == b.valid);
      REQUIRE(a.intensity.size() == layout.frames * bins);
      REQUIRE(b.intensity.size() == a.intensity.size());
      size_t nan_rows = 0;
      for (size_t i = 0; i < a.intensity.size(); ++i) {
        INFO("value " << i << " (frame " << i / bins << ")");
        if (!expect_valid[i / bins]) {
          CHECK(std::isnan(b.intensity[i]));
          CHECK(std::isnan(b.sigma[i]));
          CHECK(std::isnan(b.count[i]));
          nan_rows += i % bins == 0;
          continue;
        }
        CHECK(a.intensity[i] == b.intensity[i]);
        CHECK(a.sigma[i] == b.sigma[i]);
        CHECK(a.count[i] == b.count[i]);
      }
      CHECK(nan_rows == (scan ? 8 + 1 : 32 + 1));
      const size_t f = layout.frames - 1;  // the edge chunk's last frame
      CHECK(b.intensity[f * bins + 2] == Approx(static_cast<double>(f) * 1.1 + 2.0 / 3.0));
    }
}

TEST_CASE("NxWriter: a file already there is replaced by a new one (its old content gone), a symbolic link's target "
          "is written") {
  const auto dir = xrd::test::temp_dir("output_replace");
  xrd::h5::NxLayout layout;
  layout.frames = 3;
  layout.radial = {1, 2};
  layout.radial_unit = "q_A^-1";
  auto write = [&](const std::filesystem::path& p, double v) {
    xrd::h5::NxWriter w(p, layout);
    w.write(1, std::vector<double>{v, v + 1}, std::vector<double>{1, 1}, std::vector<double>{5, 5});
    w.close();
  };
  const auto path = dir / "run.h5";
  {
    std::ofstream junk(path, std::ios::binary);
    junk << std::string(1 << 20, 'x');  // not HDF5, larger than the new file
  }
  write(path, 7);
  auto r = xrd::h5::read_patterns(path);
  CHECK(r.valid == std::vector<uint8_t>{0, 1, 0});
  CHECK(r.intensity[2] == 7);
  write(path, 9);  // the previous run's file: replaced
  r = xrd::h5::read_patterns(path);
  CHECK(r.intensity[2] == 9);
  CHECK(r.intensity[3] == 10);
  CHECK(std::filesystem::file_size(path) < (1u << 20));
  // A link to a file elsewhere: the link stays, the file it names gets the patterns.
  const auto target = dir / "target.h5", link = dir / "link.h5";
  write(target, 1);
  std::filesystem::create_symlink(target, link);
  write(link, 3);
  CHECK(std::filesystem::is_symlink(link));
  CHECK(xrd::h5::read_patterns(target).intensity[2] == 3);
  std::filesystem::remove_all(dir);
}
