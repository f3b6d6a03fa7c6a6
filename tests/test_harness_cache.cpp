// Page-cache residency with real files: warm -> ~all resident, evict -> ~none resident (on a disk filesystem).
#include <catch2/catch.hpp>

#include <fstream>

#include "harness/cache.hpp"
#include "base/error.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace xrd::harness;

namespace {

// A folder on a filesystem that can evict pages: /tmp when it is a disk, else the build or source tree
// (tmpfs keeps pages in memory and would make every cold check meaningless).
fs::path evictable_dir(const std::string& name) {
  std::vector<fs::path> candidates = {fs::temp_directory_path(), fs::current_path(), fs::path(XRD_SOURCE_DIR)};
  for (auto& c : candidates) {
    std::error_code ec;
    if (!fs::is_directory(c, ec) || !eviction_possible(c)) continue;
    auto d = c / ("xrdbench_test_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(d, ec);
    if (fs::create_directories(d, ec)) return d;
  }
  return {};
}

std::vector<fs::path> make_files(const fs::path& dir, int n, size_t bytes) {
  std::vector<fs::path> files;
  std::vector<char> buf(bytes);
  for (size_t i = 0; i < bytes; ++i) buf[i] = static_cast<char>(i * 131 + 7);
  for (int k = 0; k < n; ++k) {
    auto p = dir / ("frame_" + std::to_string(k) + ".cbf");
    std::ofstream(p, std::ios::binary).write(buf.data(), static_cast<std::streamsize>(buf.size()));
    files.push_back(p);
  }
  return files;
}

}  // namespace

TEST_CASE("residency after warm is ~1 and after evict is < 1%", "[harness][cache]") {
  const auto dir = evictable_dir("cache");
  if (dir.empty()) {
    WARN("skipped: no disk-backed folder (tmp, build and source trees are all tmpfs/ramfs): eviction impossible");
    return;
  }
  INFO("folder " << dir << " on " << filesystem_type(dir));
  const auto files = make_files(dir, 4, 3 * 1024 * 1024 + 123);  // an odd size: the last page is partial

  warm(files);
  const Residency hot = residency(files);
  CHECK(hot.total_pages == 4 * ((3 * 1024 * 1024 + 123 + 4095) / 4096));
  CHECK(hot.fraction() > 0.99);

  evict(files, false);
  const Residency cold = residency(files);
  CHECK(cold.total_pages == hot.total_pages);
  CHECK(cold.fraction() < 0.01);

  // Warm again: the same files come back.
  warm({files[1]});
  const auto per = residency_per_file(files);
  REQUIRE(per.size() == 4);
  CHECK(per[1].residency.fraction() > 0.99);
  CHECK(per[0].residency.fraction() < 0.01);
  uint64_t sum = 0;
  for (auto& f : per) sum += f.residency.resident_pages;
  CHECK(sum == residency(files).resident_pages);
  fs::remove_all(dir);
}

TEST_CASE("errors name the file; empty files have no pages", "[harness][cache]") {
  const auto dir = xrd::test::temp_dir("cache_errors");
  const auto missing = dir / "no_such_frame.cbf";
  CHECK_THROWS_WITH(residency({missing}), Catch::Contains("no_such_frame.cbf"));
  CHECK_THROWS_WITH(evict({missing}), Catch::Contains("no_such_frame.cbf"));
  CHECK_THROWS_WITH(warm({missing}), Catch::Contains("no_such_frame.cbf"));

  const auto empty = dir / "empty.cbf";
  std::ofstream(empty).close();
  const Residency r = residency({empty});
  CHECK(r.total_pages == 0);
  CHECK(r.fraction() == 0.0);
  CHECK_NOTHROW(evict({empty}));
  CHECK_NOTHROW(warm({empty}));
  fs::remove_all(dir);
}

TEST_CASE("filesystem type is named and tmpfs is recognized", "[harness][cache]") {
  CHECK(!filesystem_type(fs::current_path()).empty());
  CHECK_THROWS_WITH(filesystem_type("/no/such/path/at/all"), Catch::Contains("/no/such/path/at/all"));
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec)) {
    CHECK(filesystem_type("/dev/shm") == "tmpfs");
    CHECK_FALSE(eviction_possible("/dev/shm"));
  }
  // drop_caches is only attempted as root; elsewhere evict() says it did not.
  if (!running_as_root()) CHECK_FALSE(evict({}, true));
}
