// Read methods (--read-method): every method gives the bytes pread gives, for real CBF frames loaded whole and
// straight into claimed memory, and for unaligned windows of a file bigger than the methods' request sizes; reading
// past the end names the file and the byte where it ended; O_DIRECT refused (procfs; tmpfs before Linux 6.6) falls
// back to pread and says why.
#include <algorithm>
#include <fstream>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "datasets/cbf.hpp"
#include "datasets/frame_read.hpp"
#include "datasets/frame_source.hpp"
#include "base/error.hpp"
#include "tests/test_strategies_support.hpp"
#include "tests/test_support.hpp"

using namespace xrd;

namespace {

std::vector<uint8_t> random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

void write_file(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

}  // namespace

TEST_CASE("read methods: names round-trip, a bad name is refused naming the option") {
  for (io::ReadMethod m : io::all_read_methods()) CHECK(io::parse_read_method(io::to_string(m)) == m);
  CHECK(io::all_read_methods().size() == 4);
  try {
    (void)io::parse_read_method("aio");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("--read-method") && Catch::Contains("aio") && Catch::Contains("uring"));
  }
}

TEST_CASE("every read method loads real CBF frames byte-identical to pread, whole and into claimed memory") {
  const auto files = test::real_frames();
  REQUIRE(files.size() >= 3);
  const frames::CbfFileSource src(files);
  for (size_t i = 0; i < src.size(); ++i) {
    INFO(files[i]);
    src.set_read_method(io::ReadMethod::pread);
    frames::EncodedFrame ref;
    src.load(i, ref);
    const std::vector<uint8_t> want(ref.payload.begin(), ref.payload.end());
    REQUIRE(!want.empty());
    for (io::ReadMethod m : io::all_read_methods()) {
      INFO(io::to_string(m));
      src.set_read_method(m);
      CHECK(src.read_method() == m);
      frames::EncodedFrame whole, into;
      src.load(i, whole);
      CHECK(whole.payload_offset == ref.payload_offset);
      CHECK(whole.width == ref.width);
      REQUIRE(whole.payload.size() == want.size());
      CHECK(std::equal(whole.payload.begin(), whole.payload.end(), want.begin()));
      // Into claimed memory at an odd address (pinned staging packs frames back to back).
      std::vector<uint8_t> claimed;
      src.load_into(i, into, [&](const frames::EncodedFrame& meta, size_t bytes) {
        CHECK(meta.height == ref.height);
        claimed.assign(bytes + 3, 0xEE);
        return std::span<uint8_t>(claimed.data() + 3, bytes);
      });
      CHECK(into.payload.data() == claimed.data() + 3);
      REQUIRE(into.payload.size() == want.size());
      CHECK(std::equal(into.payload.begin(), into.payload.end(), want.begin()));
      CHECK(into.content_md5 == ref.content_md5);
      std::vector<int32_t> a(into.pixels()), b(ref.pixels());
      frames::decode(into, std::span<int32_t>(a));
      frames::decode(ref, std::span<int32_t>(b), true);
      CHECK(a == b);
    }
  }
}

TEST_CASE("load_file_into reads a frame's whole file into claimed memory (direct: at an aligned address), as load does") {
  const auto files = test::real_frames();
  REQUIRE(!files.empty());
  const frames::CbfFileSource src(files);
  frames::EncodedFrame ref;
  src.load(0, ref);
  for (io::ReadMethod m : io::all_read_methods()) {
    INFO(io::to_string(m));
    src.set_read_method(m);
    io::FileReader probe(files[0].string(), m);
    const bool direct = probe.method() == io::ReadMethod::direct;  // not where the file system refuses O_DIRECT
    std::vector<uint8_t> claimed;
    size_t asked = 0;
    frames::EncodedFrame into;
    REQUIRE(src.load_file_into(0, into, [&](size_t bytes) {
      asked = bytes;
      claimed.assign(bytes + 7, 0xEE);
      return std::span<uint8_t>(claimed.data() + 7, bytes);  // an odd address: direct aligns inside the room
    }));
    CHECK(asked == (direct ? (probe.size() + 4095) / 4096 * 4096 + 4096 : probe.size()));
    CHECK(into.payload.data() >= claimed.data() + 7);
    CHECK(into.payload.data() + into.payload.size() <= claimed.data() + claimed.size());
    const uint8_t* file_start = into.payload.data() - into.payload_offset;
    if (direct) CHECK(reinterpret_cast<uintptr_t>(file_start) % 4096 == 0);
    CHECK(into.payload_offset == ref.payload_offset);
    CHECK(into.element == ref.element);
    CHECK(into.width == ref.width);
    REQUIRE(into.payload.size() == ref.payload.size());
    CHECK(std::equal(into.payload.begin(), into.payload.end(), ref.payload.begin()));
    // The header came with it: the file's first bytes are where the payload's offset says.
    const auto file = test::read_bytes(files[0]);
    REQUIRE(file.size() == probe.size());
    CHECK(std::equal(file.begin(), file.end(), file_start));
  }
  src.set_read_method(io::ReadMethod::pread);
  // A room smaller than the file needs: an error naming the file and both sizes, nothing read.
  io::FileReader f(files[0].string(), io::ReadMethod::pread);
  std::vector<uint8_t> small(10);
  CHECK_THROWS_WITH(f.read_all_into(small), Catch::Contains(files[0].filename().string()) &&
                                                Catch::Contains(std::to_string(f.size()) + " bytes needed, 10 given"));
}

TEST_CASE("every read method reads unaligned windows of a 9 MB file as pread does") {
  const auto dir = test::temp_dir("frame_read_windows");
  // Bigger than the O_DIRECT bounce buffer (4 MiB) and many io_uring requests (512 KiB), not a multiple of 4096.
  const auto bytes = random_bytes((9u << 20) + 4097, 7);
  const auto path = dir / "data.bin";
  write_file(path, bytes);
  const std::vector<std::pair<uint64_t, size_t>> windows = {
      {0, 1}, {0, bytes.size()}, {1, 4095}, {4095, 2}, {4097, 4096 * 3 + 5}, {5000, (4u << 20) + 3},
      {(512u << 10) - 1, (512u << 10) * 17 + 11}, {bytes.size() - 1, 1}, {bytes.size() - 9000, 9000}};
  for (io::ReadMethod m : io::all_read_methods()) {
    INFO(io::to_string(m));
    io::FileReader f(path.string(), m);
    CHECK(f.size() == bytes.size());
    // On ext4 / xfs every method is available; elsewhere pread stands in and fallback() says why.
    if (f.fallback().empty()) CHECK(f.method() == m);
    for (auto [off, len] : windows) {
      INFO("offset " << off << " length " << len);
      std::vector<uint8_t> got(len + 2, 0xAB);
      f.read(std::span<uint8_t>(got.data() + 1, len), off);  // an unaligned destination
      CHECK(got.front() == 0xAB);
      CHECK(got.back() == 0xAB);
      CHECK(std::equal(got.begin() + 1, got.end() - 1, bytes.begin() + static_cast<long>(off)));
    }
    std::vector<uint8_t> storage;
    const auto all = f.read_all(storage);
    REQUIRE(all.size() == bytes.size());
    CHECK(std::equal(all.begin(), all.end(), bytes.begin()));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("reading past the end of a truncated file names the file and the byte where it ended, every method") {
  const auto dir = test::temp_dir("frame_read_trunc");
  const auto files = test::real_frames();
  // A real frame cut in the middle of its payload.
  std::ifstream in(files.front(), std::ios::binary);
  std::vector<uint8_t> all((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(all.size() > 20000);
  const size_t cut = all.size() / 2 + 1;
  all.resize(cut);
  const auto path = dir / "truncated.cbf";
  write_file(path, all);
  for (io::ReadMethod m : io::all_read_methods()) {
    INFO(io::to_string(m));
    io::FileReader f(path.string(), m);
    std::vector<uint8_t> dst(cut);  // asks for cut bytes from offset 100: 100 too many
    try {
      f.read(dst, 100);
      FAIL("read past the end accepted");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(path.string()) && Catch::Contains("byte " + std::to_string(cut)) &&
                               Catch::Contains("ended early"));
    }
    // The frame source says so too (the header declares more payload than the file holds), whole and into memory.
    const frames::CbfFileSource src({path});
    src.set_read_method(m);
    frames::EncodedFrame fr;
    CHECK_THROWS_WITH(src.load(0, fr), Catch::Contains(path.string()));
    bool claimed = false;
    std::vector<uint8_t> mem;
    CHECK_THROWS_WITH(src.load_into(0, fr,
                                    [&](const frames::EncodedFrame&, size_t n) {
                                      claimed = true;
                                      mem.resize(n);
                                      return std::span<uint8_t>(mem);
                                    }),
                      Catch::Contains(path.string()));
    CHECK_FALSE(claimed);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("O_DIRECT refused by the file system falls back to pread and says why, and reads stay correct") {
  // procfs refuses O_DIRECT on every kernel (EINVAL at open): the fallback path, deterministically.
  {
    io::FileReader f("/proc/version", io::ReadMethod::direct);
    CHECK(f.method() == io::ReadMethod::pread);
    CHECK_THAT(f.fallback(), Catch::Contains("O_DIRECT") && Catch::Contains("/proc/version"));
    std::vector<uint8_t> got(5);
    f.read(got, 0);
    CHECK(std::string(got.begin(), got.end()) == "Linux");
  }
  // tmpfs: refuses O_DIRECT before Linux 6.6 (fallback), takes it since; either way the bytes are right.
  const std::filesystem::path shm = "/dev/shm";
  if (!std::filesystem::is_directory(shm)) {
    WARN("no /dev/shm here: tmpfs not exercised");
    return;
  }
  const auto path = shm / ("xrdbench_test_direct_" + std::to_string(::getpid()) + ".bin");
  const auto bytes = random_bytes(100000, 3);
  write_file(path, bytes);
  io::FileReader f(path.string(), io::ReadMethod::direct);
  if (f.method() == io::ReadMethod::pread)
    CHECK_THAT(f.fallback(), Catch::Contains("O_DIRECT") && Catch::Contains(path.string()));
  else
    CHECK(f.fallback().empty());
  std::vector<uint8_t> got(777);
  f.read(got, 12345);
  CHECK(std::equal(got.begin(), got.end(), bytes.begin() + 12345));
  std::filesystem::remove(path);
}

TEST_CASE("io_uring: used when the kernel allows a ring, else pread with the reason") {
  const auto files = test::real_frames();
  io::FileReader f(files.front().string(), io::ReadMethod::uring);
  if (io::uring_available()) {
    CHECK(f.method() == io::ReadMethod::uring);
    CHECK(f.fallback().empty());
  } else {
    CHECK(f.method() == io::ReadMethod::pread);
    CHECK_THAT(f.fallback(), Catch::Contains("io_uring"));
  }
}

TEST_CASE("xrdbench cache read: every method reads the files and reports MB/s and CPU per file") {
  const std::string dir = (test::fixtures() / "real").string();
  for (const char* m : {"pread", "mmap", "direct", "uring"}) {
    const auto r = test::run_xrdbench("cache read --method " + std::string(m) + " --threads 2 --passes 2 " + dir);
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains(std::string("read ") + m + " x2: ") && Catch::Contains("ms CPU per file"));
  }
  const auto bad = test::run_xrdbench("cache read --method aio " + dir);
  CHECK(bad.status == 2);
  CHECK_THAT(bad.output, Catch::Contains("--method") && Catch::Contains("aio"));
}

TEST_CASE("run --read-method: our rows read with it, the paper's rows pread, results.json says which, and sweeps") {
  const auto dir = test::make_tiny_dataset("read_method_run", 4);
  const auto out = test::temp_dir("read_method_run_out");
  const std::string d = "'" + dir.string() + "'";
  const std::string o = "'" + out.string() + "'";
  auto read_rows = [&] {
    std::ifstream in(out / "results.json");
    REQUIRE(in);
    return nlohmann::json::parse(in)["rows"];
  };
  auto r = test::run_xrdbench("run --dataset " + d + " --strategy fused --read-method uring --repeats 1 --warmup 0 "
                              "--no-write --device cpu --bins 50 --quiet --out " + o);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto rows = read_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["read_method"] == "uring");
  CHECK(rows[0]["validated"] == true);
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  r = test::run_xrdbench("run --dataset " + d + " --strategy sequential --read-method direct --repeats 1 --warmup 0 "
                         "--no-write --device cpu --bins 50 --quiet --out " + o);
  REQUIRE(r.status == 0);
  CHECK(read_rows()[0]["read_method"] == "pread");  // the paper's design reads as it did
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  // A sweep: one row per method, ids say which, each validated against the one reference.
  r = test::run_xrdbench("run --dataset " + d + " --strategy pipeline --sweep-read-methods pread,mmap,direct,uring "
                         "--repeats 1 --warmup 0 --no-write --device cpu --bins 50 --quiet --out " + o);
  INFO(r.output);
  REQUIRE(r.status == 0);
  rows = read_rows();
  REQUIRE(rows.size() == 4);
  std::set<std::string> methods;
  for (auto& row : rows) {
    methods.insert(row["read_method"].get<std::string>());
    CHECK_THAT(row["id"].get<std::string>(), Catch::Contains("-" + row["read_method"].get<std::string>() + "-"));
    CHECK(row["validated"] == true);
  }
  CHECK(methods == std::set<std::string>{"pread", "mmap", "direct", "uring"});
  const auto bad = test::run_xrdbench("run --dataset " + d + " --strategy fused --read-method aio --out " + o);
  CHECK(bad.status != 0);
  CHECK_THAT(bad.output, Catch::Contains("--read-method") && Catch::Contains("aio"));
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(dir);
}
