// base/: the atomic file write (written, read back, replaced whole; a failed write names the file, the step and the
// real errno and leaves no temporary file), the enum name tables (name <-> value, the accepted list in the error),
// where the shared/ folder is ($XRD_SHARED_DIR wins; a folder without fixtures is an error naming it).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "base/atomic_file.hpp"
#include "base/data_paths.hpp"
#include "base/enum_names.hpp"
#include "base/error.hpp"
#include "base/profiler.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) {
  const auto b = xrd::test::read_bytes(p);
  return std::string(b.begin(), b.end());
}

enum class Colour { red, green, blue };
constexpr xrd::EnumName<Colour> kColourNames[] = {{Colour::red, "red"}, {Colour::green, "green"}, {Colour::blue, "blue"}};

// Sets an environment variable for the life of the object, then puts the old value back.
struct ScopedEnv {
  std::string name, old;
  bool had;
  ScopedEnv(const char* n, const std::string& value) : name(n) {
    const char* v = std::getenv(n);
    had = v != nullptr;
    if (had) old = v;
    ::setenv(n, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had) ::setenv(name.c_str(), old.c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("write_file_atomic writes the bytes, replaces an older file whole; a missing folder is an open error",
          "[base]") {
  const auto dir = xrd::test::temp_dir("base_atomic");
  try {
    xrd::write_file_atomic(dir / "missing" / "out.txt", "x");
    FAIL("wrote into a folder that does not exist");
  } catch (const xrd::Error& e) {
    CHECK(e.file() == (dir / "missing" / "out.txt").string());
    CHECK(e.where() == "open");
    CHECK_THAT(e.what(), Catch::Contains("No such file or directory"));
  }
  CHECK_FALSE(fs::exists(dir / "missing"));
  const fs::path p = dir / "out.txt";
  xrd::write_file_atomic(p, "first\n");
  CHECK(read_text(p) == "first\n");
  const std::string big(1 << 20, 'x');
  xrd::write_file_atomic(p, big);
  CHECK(read_text(p) == big);
  xrd::write_file_atomic(p, std::string("a\0b", 3));  // binary bytes, not a C string
  CHECK(fs::file_size(p) == 3);
  for (auto& e : fs::directory_iterator(p.parent_path())) CHECK(e.path().filename() == "out.txt");
}

TEST_CASE("write_file_atomic: a failed rename names the file, the step and errno; the old file and no temporary stay",
          "[base]") {
  const auto dir = xrd::test::temp_dir("base_atomic_fail");
  fs::create_directories(dir / "target" / "inside");  // rename onto a non-empty folder fails
  try {
    xrd::write_file_atomic(dir / "target", "text");
    FAIL("the rename onto a folder succeeded");
  } catch (const xrd::Error& e) {
    CHECK(e.file() == (dir / "target").string());
    CHECK(e.where() == "rename");
    const std::string what = e.what();
    CHECK((what.find("Is a directory") != std::string::npos || what.find("Directory not empty") != std::string::npos));
  }
  CHECK(fs::is_directory(dir / "target" / "inside"));
  for (auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename() == "target");
}

TEST_CASE("write_file_atomic: a folder it cannot write to is an open error naming the file", "[base]") {
  if (::geteuid() == 0) SUCCEED("root writes anywhere: the permission case cannot fail here");
  else {
    const auto dir = xrd::test::temp_dir("base_atomic_ro");
    ::chmod(dir.c_str(), 0555);
    try {
      xrd::write_file_atomic(dir / "x.json", "{}");
      FAIL("wrote into a read-only folder");
    } catch (const xrd::Error& e) {
      CHECK(e.where() == "open");
      CHECK_THAT(e.what(), Catch::Contains("Permission denied"));
    }
    ::chmod(dir.c_str(), 0755);
    CHECK_FALSE(fs::exists(dir / "x.json"));
  }
}

TEST_CASE("enum names: one table gives the name, the value and the accepted list", "[base]") {
  CHECK(std::string(xrd::enum_name(kColourNames, Colour::green)) == "green");
  CHECK(std::string(xrd::enum_name(kColourNames, static_cast<Colour>(7), "none")) == "none");
  CHECK(xrd::parse_enum(kColourNames, "blue", "colour") == Colour::blue);
  CHECK(xrd::enum_names(kColourNames) == "red, green or blue");
  try {
    xrd::parse_enum(kColourNames, "Blue", "colour");
    FAIL("parsed a name not in the table");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "unknown colour 'Blue' (expected red, green or blue)");
  }
  // Every stage round-trips through its results.json key.
  for (xrd::Stage s : xrd::kAllStages) CHECK(std::string(xrd::stage_name(s)) != "?");
  CHECK(std::string(xrd::stage_name(xrd::Stage::integrate)) == "integrate");
}

TEST_CASE("shared_dir: $XRD_SHARED_DIR wins; fixtures_dir refuses a folder without fixtures, naming it", "[base]") {
  const auto real = xrd::paths::fixtures_dir();  // ctest sets XRD_SHARED_DIR; the built-in default is the same folder
  CHECK(fs::is_directory(real));
  const auto dir = xrd::test::temp_dir("base_paths");
  {
    ScopedEnv env("XRD_SHARED_DIR", dir.string());
    CHECK(xrd::paths::shared_dir() == dir);
    try {
      xrd::paths::fixtures_dir();
      FAIL("a folder without fixtures/ was accepted");
    } catch (const xrd::Error& e) {
      CHECK(e.file() == (dir / "fixtures").string());
      CHECK_THAT(e.what(), Catch::Contains("XRD_SHARED_DIR"));
    }
    fs::create_directories(dir / "fixtures");
    CHECK(xrd::paths::fixtures_dir() == dir / "fixtures");
  }
  {
    ScopedEnv env("XRD_SHARED_DIR", "");  // empty counts as unset: the folder CMake was configured with
    CHECK_FALSE(xrd::paths::shared_dir().empty());
    CHECK(xrd::paths::shared_dir() != dir);
  }
  CHECK(xrd::paths::exe_dir() == fs::read_symlink("/proc/self/exe").parent_path());
}
