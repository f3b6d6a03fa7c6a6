// Read-ahead (datasets/frame_read_ahead.hpp, --read-ahead): the frames come out byte-identical to the plain source,
// for 1, 2, 4 readers and more readers than frames, read with pread and O_DIRECT, taken by one consumer or by several
// at once; a missing or truncated file mid-dataset fails that frame only, naming the file; consumers that stop early,
// ask out of order or throw never hang it; pipeline and fused with read-ahead reproduce the reference patterns; run
// and table1 take --read-ahead and record it in results.json.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "datasets/frame_read_ahead.hpp"
#include "datasets/frame_source.hpp"
#include "harness/runner_cli.hpp"
#include "tests/test_strategies_support.hpp"
#include "tests/test_support.hpp"

using namespace xrd;

namespace {

std::vector<std::filesystem::path> cbf_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> v;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("frame_", 0) == 0) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

// Every frame's payload and metadata as the plain source reads them.
struct Plain {
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<size_t> offsets;
};
Plain plain(const frames::FrameSource& src) {
  Plain p;
  for (size_t i = 0; i < src.size(); ++i) {
    frames::EncodedFrame f;
    src.load(i, f);
    p.payloads.emplace_back(f.payload.begin(), f.payload.end());
    p.offsets.push_back(f.payload_offset);
  }
  return p;
}

void check_frame(const Plain& want, size_t i, const frames::EncodedFrame& got, const frames::FrameSource& src) {
  INFO("frame " << i);
  CHECK(got.index == i);
  CHECK(got.origin == src.origin(i));
  CHECK(got.payload_offset == want.offsets[i]);
  REQUIRE(got.payload.size() == want.payloads[i].size());
  CHECK(std::equal(got.payload.begin(), got.payload.end(), want.payloads[i].begin()));
}

// Runs fn on its own thread; fails (and ends the test binary: the thread may hold the stack) when it takes > 60 s.
template <class F>
void within_a_minute(F fn) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread([done, fn] {
    fn();
    done->store(true);
  }).detach();
  for (int k = 0; k < 6000 && !done->load(); ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!done->load()) {
    FAIL_CHECK("read-ahead hung");
    std::_Exit(1);
  }
}

}  // namespace

TEST_CASE("read-ahead: frames in order and byte-identical to the plain source, 1/2/4 readers and more than frames") {
  const auto dir = test::make_tiny_dataset("ra_order", 9);
  const frames::CbfFileSource src(cbf_files(dir));
  REQUIRE(src.size() == 9);
  const Plain want = plain(src);
  for (io::ReadMethod m : {io::ReadMethod::pread, io::ReadMethod::direct}) {
    src.set_read_method(m);
    for (int readers : {1, 2, 4, 16}) {
      for (size_t depth : {size_t(0), size_t(1), size_t(3), size_t(32)}) {
        INFO(io::to_string(m) << ", " << readers << " readers, depth " << depth);
        frames::ReadAheadSource ra(src, readers, depth);
        CHECK(ra.size() == src.size());
        CHECK(ra.readers() == std::min(readers, 9));
        CHECK(ra.read_method() == m);
        frames::EncodedFrame f;  // one buffer reused: the ring swaps storage with it
        for (size_t i = 0; i < ra.size(); ++i) {
          ra.load(i, f);
          check_frame(want, i, f, src);
        }
        // In-order consumers take every frame from the ring.
        CHECK(ra.from_ring() == 9);
        CHECK(ra.read_by_consumer() == 0);
      }
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("read-ahead: real Pilatus frames through O_DIRECT and several consumers at once, byte-identical") {
  const auto files = test::real_frames();
  REQUIRE(files.size() >= 3);
  // Each real frame twice: more frames than readers and ring.
  std::vector<std::filesystem::path> twice(files);
  twice.insert(twice.end(), files.begin(), files.end());
  const frames::CbfFileSource src(twice);
  const Plain want = plain(src);
  for (io::ReadMethod m : {io::ReadMethod::pread, io::ReadMethod::direct, io::ReadMethod::uring}) {
    INFO(io::to_string(m));
    src.set_read_method(m);
    frames::ReadAheadSource ra(src, 3, 4);
    std::atomic<size_t> next{0};
    std::vector<frames::EncodedFrame> got(src.size());
    std::vector<std::thread> consumers;
    for (int c = 0; c < 3; ++c)
      consumers.emplace_back([&] {
        frames::EncodedFrame f;
        for (size_t i; (i = next.fetch_add(1)) < ra.size();) {
          ra.load(i, f);
          got[i] = f;  // a copy: the payload view is re-pointed below
          got[i].payload = {got[i].storage.data() + (f.payload.data() - f.storage.data()), f.payload.size()};
        }
      });
    for (auto& t : consumers) t.join();
    for (size_t i = 0; i < src.size(); ++i) check_frame(want, i, got[i], src);
    CHECK(ra.from_ring() + ra.read_by_consumer() == src.size());
  }
}

TEST_CASE("read-ahead: a missing and a truncated file mid-dataset fail those frames only, naming the file") {
  const auto dir = test::make_tiny_dataset("ra_errors", 8);
  const auto files = cbf_files(dir);
  const frames::CbfFileSource src(files);
  const Plain want = plain(src);
  std::filesystem::remove(files[3]);
  auto bytes = test::read_bytes(files[5]);
  bytes.resize(bytes.size() / 2);  // inside the binary section
  test::write_bytes(files[5], bytes);
  for (io::ReadMethod m : {io::ReadMethod::pread, io::ReadMethod::direct}) {
    src.set_read_method(m);
    for (int readers : {1, 2, 4, 12}) {
      INFO(io::to_string(m) << ", " << readers << " readers");
      frames::ReadAheadSource ra(src, readers, 2);
      frames::EncodedFrame f;
      for (size_t i = 0; i < ra.size(); ++i) {
        if (i == 3 || i == 5) {
          try {
            ra.load(i, f);
            FAIL("frame " << i << " loaded");
          } catch (const Error& e) {
            CHECK_THAT(e.what(), Catch::Contains(files[i].string()));
          }
          continue;
        }
        ra.load(i, f);
        check_frame(want, i, f, src);
      }
      CHECK(ra.from_ring() == 8);  // the errors came from the ring too (kept for their frames)
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("read-ahead: consumers that stop early, ask out of order, ask twice or throw never hang it") {
  const auto dir = test::make_tiny_dataset("ra_stop", 12);
  const auto files = cbf_files(dir);
  auto src = std::make_shared<frames::CbfFileSource>(files);
  auto want = std::make_shared<Plain>(plain(*src));
  auto ok = std::make_shared<std::atomic<int>>(0);
  within_a_minute([src, want, ok] {
    // Stops after 2 of 12 frames with a full ring: the destructor joins the readers waiting for room.
    for (int readers : {1, 3, 20}) {
      frames::ReadAheadSource ra(*src, readers, 2);
      frames::EncodedFrame f;
      ra.load(0, f);
      ra.load(1, f);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the readers fill the ring
    }
    // Last frame first with a ring of 1: the readers cannot reach it, the consumer reads it itself; then the rest in
    // order, and frame 11 again (read again).
    {
      frames::ReadAheadSource ra(*src, 2, 1);
      frames::EncodedFrame f;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ra.load(11, f);
      if (f.payload.size() == want->payloads[11].size() &&
          std::equal(f.payload.begin(), f.payload.end(), want->payloads[11].begin()))
        ++*ok;
      bool all = true;
      for (size_t i = 0; i < 12; ++i) {
        ra.load(i, f);
        all &= f.index == i && std::equal(f.payload.begin(), f.payload.end(), want->payloads[i].begin(),
                                          want->payloads[i].end());
      }
      if (all) ++*ok;
      if (ra.read_by_consumer() >= 2) ++*ok;  // frame 11 first, and again
    }
    // stop() while frames are waiting in the ring: later loads read from the base source.
    {
      frames::ReadAheadSource ra(*src, 2, 4);
      frames::EncodedFrame f;
      ra.load(0, f);
      ra.stop();
      bool all = true;
      for (size_t i = 1; i < 12; ++i) {
        ra.load(i, f);
        all &= std::equal(f.payload.begin(), f.payload.end(), want->payloads[i].begin(), want->payloads[i].end());
      }
      if (all) ++*ok;
    }
    // A consumer that throws mid-way (its own exception): the source is destroyed during unwinding.
    try {
      frames::ReadAheadSource ra(*src, 4, 3);
      frames::EncodedFrame f;
      ra.load(0, f);
      throw std::runtime_error("consumer failed");
    } catch (const std::runtime_error&) {
      ++*ok;
    }
  });
  CHECK(ok->load() == 5);
  CHECK_THROWS_WITH(frames::ReadAheadSource(*src, 0), Catch::Contains("--read-ahead"));
  std::filesystem::remove_all(dir);
}

namespace {

test::CollectingSink run_cpu(const harness::Dataset& ds, const std::string& name, int read_ahead,
                             io::ReadMethod m = io::ReadMethod::pread, bool reference = false) {
  test::CollectingSink sink(ds.source->size(), static_cast<size_t>(ds.setup.csr.bins));
  strategies::RunContext ctx;
  ctx.source = ds.source.get();
  ctx.setup = &ds.setup;
  ctx.opt.reference = reference;
  ctx.opt.threads = 2;
  ctx.opt.batch = 3;
  ctx.opt.read_ahead = read_ahead;
  ctx.opt.read_method = m;
  ds.source->set_read_method(m);
  ctx.sink = &sink;
  auto s = strategies::find_strategy(name).make();
  s->prepare(ctx);
  for (int r = 0; r < 2; ++r) {  // the ring is made per run: the second run must be as good
    sink = test::CollectingSink(ds.source->size(), static_cast<size_t>(ds.setup.csr.bins));
    s->run(ctx);
  }
  ds.source->set_read_method(io::ReadMethod::pread);
  return sink;
}

}  // namespace

TEST_CASE("pipeline and fused with read-ahead reproduce the reference patterns, and keep a failed frame's error") {
  const auto ds = test::load_tiny(test::make_tiny_dataset("ra_strategies", 11));
  const auto ref = run_cpu(ds, "sequential", 0, io::ReadMethod::pread, true);
  REQUIRE(ref.errors.empty());
  for (const char* name : {"fused", "pipeline"})
    for (int ra : {1, 2, 4, 16})
      for (io::ReadMethod m : {io::ReadMethod::pread, io::ReadMethod::direct}) {
        INFO(name << " read-ahead " << ra << " " << io::to_string(m));
        const auto got = run_cpu(ds, name, ra, m);
        CHECK(got.errors.empty());
        const auto c = harness::compare_patterns(ref.patterns, got.patterns);
        INFO(c.worst);
        CHECK(c.frames_compared == 11);
        CHECK(c.frames_missing == 0);
        CHECK(c.max_rel_diff <= harness::kValidationTolerance);
        std::vector<size_t> in_order(11);
        std::iota(in_order.begin(), in_order.end(), 0);
        CHECK(got.order == in_order);
      }
  // A frame file removed after the dataset was loaded: that frame's error names it, the others are reduced.
  const auto gone = ds.files[4];
  std::filesystem::remove(gone);
  const auto got = run_cpu(ds, "fused", 2);
  REQUIRE(got.errors.size() == 1);
  CHECK(got.errors[0].first == 4);
  CHECK_THAT(got.errors[0].second, Catch::Contains(gone.string()));
  const auto c = harness::compare_patterns(ref.patterns, got.patterns);
  CHECK(c.frames_compared == 10);
  CHECK(c.max_rel_diff <= harness::kValidationTolerance);
  std::filesystem::remove_all(ds.dir);
}

TEST_CASE("read-ahead option: auto's rule, our rows only, a bad value refused naming the option") {
  using harness::CacheMode;
  CHECK(harness::default_read_ahead(CacheMode::hot, 16) == 0);
  CHECK(harness::default_read_ahead(CacheMode::cold, 1) == 2);
  CHECK(harness::default_read_ahead(CacheMode::cold, 2) == 4);
  CHECK(harness::default_read_ahead(CacheMode::cold, 16) == 4);
  CHECK(harness::default_read_ahead(CacheMode::cold, 128) == 4);
  CHECK(harness::row_read_ahead("3", "fused", CacheMode::hot) == 3);
  CHECK(harness::row_read_ahead("3", "pipeline", CacheMode::cold) == 3);
  CHECK(harness::row_read_ahead("3", "pool", CacheMode::cold) == 0);  // the paper's rows read as they did
  CHECK(harness::row_read_ahead("3", "opencl-batched", CacheMode::cold) == 0);
  CHECK(harness::row_read_ahead("auto", "fused", CacheMode::hot) == 0);
  CHECK(harness::row_read_ahead("auto", "fused", CacheMode::cold) >= 2);
  CHECK_THROWS_WITH(harness::row_read_ahead("x", "fused", CacheMode::cold), Catch::Contains("--read-ahead"));
  CHECK_THROWS_WITH(harness::row_read_ahead("65", "fused", CacheMode::cold), Catch::Contains("--read-ahead"));
}

TEST_CASE("run --read-ahead and --sweep-read-ahead: rows record read_ahead, ids say it, the paper's rows 0") {
  const auto dir = test::make_tiny_dataset("ra_run", 5);
  const auto out = test::temp_dir("ra_run_out");
  const std::string d = "'" + dir.string() + "'", o = "'" + out.string() + "'";
  const std::string common = " --repeats 1 --warmup 0 --no-write --device cpu --bins 50 --quiet --out " + o;
  auto rows = [&] {
    std::ifstream in(out / "results.json");
    REQUIRE(in);
    return nlohmann::json::parse(in)["rows"];
  };
  auto fresh = [&] {
    std::filesystem::remove_all(out);
    std::filesystem::create_directories(out);
  };
  auto r = test::run_xrdbench("run --dataset " + d + " --strategy fused --read-ahead 3" + common);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(rows()[0]["read_ahead"] == 3);
  CHECK(rows()[0]["validated"] == true);
  fresh();
  r = test::run_xrdbench("run --dataset " + d + " --strategy fused" + common);  // auto, hot: none
  REQUIRE(r.status == 0);
  CHECK(rows()[0]["read_ahead"] == 0);
  fresh();
  r = test::run_xrdbench("run --dataset " + d + " --strategy pool --read-ahead 3" + common);
  REQUIRE(r.status == 0);
  CHECK(rows()[0]["read_ahead"] == 0);
  fresh();
  // A sweep, one row per count, each validated against the one reference.
  r = test::run_xrdbench("run --dataset " + d + " --strategy pipeline --sweep-read-ahead 0,1,4" + common);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto rs = rows();
  REQUIRE(rs.size() == 3);
  std::set<int> counts;
  for (auto& row : rs) {
    const int n = row["read_ahead"].get<int>();
    counts.insert(n);
    CHECK_THAT(row["id"].get<std::string>(), Catch::EndsWith("-ra" + std::to_string(n)));
    CHECK(row["validated"] == true);
  }
  CHECK(counts == std::set<int>{0, 1, 4});
  fresh();
  const auto bad = test::run_xrdbench("run --dataset " + d + " --strategy fused --read-ahead many" + common);
  CHECK(bad.status == 2);
  CHECK_THAT(bad.output, Catch::Contains("--read-ahead") && Catch::Contains("many"));
  // --sweep-threads: one row per worker count, recorded as `threads` (0 = every core, recorded as the count).
  r = test::run_xrdbench("run --dataset " + d + " --strategy fused --sweep-threads 1,2,0" + common);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const auto ts = rows();
  REQUIRE(ts.size() == 3);
  CHECK_THAT(ts[0]["id"].get<std::string>(), Catch::EndsWith("-t1"));
  CHECK(ts[0]["threads"] == 1);
  CHECK_THAT(ts[1]["id"].get<std::string>(), Catch::EndsWith("-t2"));
  CHECK(ts[1]["threads"] == 2);
  CHECK_THAT(ts[2]["id"].get<std::string>(), Catch::EndsWith("-t0"));
  CHECK(ts[2]["threads"] == static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  for (auto& row : ts) CHECK(row["validated"] == true);
  fresh();
  const auto bad_threads = test::run_xrdbench("run --dataset " + d + " --strategy fused --sweep-threads 2,-1" + common);
  CHECK(bad_threads.status != 0);
  CHECK_THAT(bad_threads.output, Catch::Contains("--sweep-threads"));
  const auto bad_sweep = test::run_xrdbench("run --dataset " + d + " --strategy fused --sweep-read-ahead 1,x" + common);
  CHECK(bad_sweep.status != 0);
  CHECK_THAT(bad_sweep.output, Catch::Contains("--sweep-read-ahead"));
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(dir);
}

TEST_CASE("table1 --read-ahead: our fused row records it, the paper's rows 0") {
  const auto dir = test::make_tiny_dataset("ra_table1", 4);
  const auto out = test::temp_dir("ra_table1_out");
  const auto r = test::run_xrdbench("table1 --dataset '" + dir.string() + "' --rows fused-cpu-MEM,sequential-cpu-MEM "
                                    "--read-ahead 2 --repeats 1 --warmup 0 --no-write --device cpu "
                                    "--bins 50 --quiet --out '" + out.string() + "'");
  INFO(r.output);
  REQUIRE(r.status == 0);
  std::ifstream in(out / "results.json");
  REQUIRE(in);
  const auto rows = nlohmann::json::parse(in)["rows"];
  REQUIRE(rows.size() == 2);
  for (auto& row : rows) {
    INFO(row["id"]);
    CHECK(row["read_ahead"] == (row["strategy"] == "fused" ? 2 : 0));
    CHECK(row["validated"] == true);
  }
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(dir);
}
