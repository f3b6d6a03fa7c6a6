// Sinks composed from options (harness/sinks.hpp) and the file reporters (harness/reporters.hpp), on their own:
// what each part receives, counts and writes, read back.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "harness/h5_writer.hpp"
#include "harness/reporters.hpp"
#include "harness/results.hpp"
#include "harness/runner_cli.hpp"
#include "harness/sinks.hpp"
#include "tests/test_support.hpp"

using namespace xrd;
using namespace xrd::harness;

namespace {

integration::Pattern pattern_of(size_t bins, double base) {
  integration::Pattern p;
  p.resize(bins);
  for (size_t b = 0; b < bins; ++b) {
    p.radial[b] = static_cast<double>(b);
    p.intensity[b] = base + static_cast<double>(b);
    p.count[b] = 1.0 + static_cast<double>(b);
    p.sigma[b] = 0.5;
  }
  return p;
}

h5::NxLayout layout_of(size_t frames, size_t bins) {
  h5::NxLayout l;
  l.frames = frames;
  l.radial_unit = "2th_deg";
  for (size_t b = 0; b < bins; ++b) l.radial.push_back(static_cast<double>(b));
  return l;
}

// Records the order of the calls it sees.
struct Recorder : strategies::FrameSink {
  std::string* log;
  char tag;
  void pattern(size_t frame, const integration::Pattern&) override { *log += tag + std::to_string(frame); }
  void error(size_t frame, const std::string&, const std::string&) override { *log += tag + ("!" + std::to_string(frame)); }
};

}  // namespace

TEST_CASE("FanOut gives every frame to each part in order; Tally counts and lists the failures") {
  std::string log;
  Recorder a, b;
  a.log = b.log = &log;
  a.tag = 'a';
  b.tag = 'b';
  sinks::Tally tally;
  tally.reset(30);
  sinks::FanOut all({&a, &b});
  all.add(&tally);
  const auto p = pattern_of(4, 10);
  all.pattern(0, p);
  all.error(1, "f1.cbf", "bad stream");
  CHECK(log == "a0b0a!1b!1");
  for (size_t i = 2; i < 30; ++i) all.error(i, "f.cbf", "x");
  all.pattern(29, p);  // a frame index already failed: counted once more as reduced (the tally does not judge)
  CHECK(tally.ok == 2);
  CHECK(tally.failed == 29);
  CHECK(tally.errors.size() == kMaxListedErrors);  // at most this many reasons are kept
  CHECK(tally.errors[0].file == "f1.cbf");
  CHECK(tally.errors[0].reason == "bad stream");
  CHECK(tally.failed_frames[0] == 0);
  CHECK(tally.failed_frames[1] == 1);
  tally.error(1000, "out.cbf", "beyond the frames");  // an index past the run: counted, no flag written
  CHECK(tally.failed == 30);
  tally.reset(3);
  CHECK(tally.ok == 0);
  CHECK(tally.failed == 0);
  CHECK(tally.errors.empty());
  CHECK(tally.failed_frames == std::vector<uint8_t>{0, 0, 0});
}

TEST_CASE("RunSinks: validation keeps the patterns, the HDF5 file holds them, failed frames stay invalid") {
  const auto dir = test::temp_dir("sinks_h5");
  const size_t bins = 5;
  PatternSet kept;
  kept.reset(3, bins);
  sinks::SinkOptions o;
  o.keep = &kept;
  o.h5 = std::make_unique<sinks::H5File>(dir / "sub" / "row.h5", layout_of(3, bins));  // the folder is created
  sinks::RunSinks run(std::move(o));
  REQUIRE(run.h5() != nullptr);
  CHECK(run.text() == nullptr);
  run.reset(3);
  run.h5()->open();
  run.sink().pattern(0, pattern_of(bins, 100));
  run.sink().error(1, "f1.cbf", "truncated");
  run.sink().pattern(2, pattern_of(bins, 300));
  run.h5()->close();
  CHECK(run.write_error().empty());
  CHECK(run.tally().ok == 2);
  CHECK(run.tally().failed == 1);
  CHECK(kept.present(0));
  CHECK_FALSE(kept.present(1));
  CHECK(kept.intensity(2)[4] == 304);

  const h5::NxPatterns f = h5::read_patterns(dir / "sub" / "row.h5");
  REQUIRE(f.frames == 3);
  REQUIRE(f.bins == bins);
  CHECK(f.valid == std::vector<uint8_t>{1, 0, 1});
  CHECK(f.intensity[0 * bins + 1] == Approx(101));
  CHECK(f.intensity[2 * bins + 3] == Approx(303));
  CHECK(std::isnan(f.intensity[1 * bins]));
  CHECK(f.count[2 * bins + 4] == Approx(5));
  // check_patterns_file (the runner's read-back) agrees with what was kept.
  CHECK(check_patterns_file(dir / "sub" / "row.h5", kept, run.tally().failed_frames, run.tally().ok).empty());

  CHECK(run.h5()->discard());
  CHECK_FALSE(std::filesystem::exists(dir / "sub" / "row.h5"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("H5File writes behind in runs: patterns out of order, gaps and a full queue land as delivered") {
  const auto dir = test::temp_dir("sinks_h5_runs");
  // A queue of 40 patterns' bytes (4 bins x intensity, sigma, count as doubles) and 3 x 256 + 7 frames: pattern()
  // waits for room.
  const size_t bins = 4, frames = 3 * 256 + 7, queue_bytes = 40 * 3 * bins * sizeof(double);
  sinks::H5File file(dir / "runs.h5", layout_of(frames, bins), queue_bytes);
  file.open();
  // Out of order as readers deliver them: the frames of each block of 8 reversed; every 10th frame never delivered.
  for (size_t block = 0; block < frames; block += 8)
    for (size_t k = std::min(frames, block + 8); k-- > block;)
      if (k % 10 != 3) file.pattern(k, pattern_of(bins, 10.0 * static_cast<double>(k)));
  file.close();
  CHECK(file.write_error.empty());
  const sinks::H5File::Stats stats = file.stats();
  CHECK(stats.patterns == frames - (frames + 6) / 10);  // k % 10 == 3 for 78 of the 775 frames
  CHECK(stats.max_queued <= 40);                        // the bound held
  CHECK(stats.wakes >= 1);
  const h5::NxPatterns f = h5::read_patterns(dir / "runs.h5");
  REQUIRE(f.frames == frames);
  for (size_t k = 0; k < frames; ++k) {
    INFO("frame " << k);
    if (k % 10 == 3) {
      CHECK(f.valid[k] == 0);
      CHECK(std::isnan(f.intensity[k * bins]));
      continue;
    }
    CHECK(f.valid[k] == 1);
    for (size_t b = 0; b < bins; ++b) {
      CHECK(f.intensity[k * bins + b] == Approx(10.0 * static_cast<double>(k) + static_cast<double>(b)));
      CHECK(f.count[k * bins + b] == Approx(1.0 + static_cast<double>(b)));
      CHECK(f.sigma[k * bins + b] == Approx(0.5));
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("H5File: a failed frame settles its chunk (written before close), its row stays NaN with valid 0") {
  const auto dir = test::temp_dir("sinks_h5_failed");
  const size_t bins = 3, frames = 70;  // chunks 0..31, 32..63, 64..69
  sinks::H5File file(dir / "failed.h5", layout_of(frames, bins));
  file.open();
  for (size_t k = 0; k < 64; ++k) {  // the first two chunks: every frame delivered or failed
    if (k == 5 || k == 40) file.error(k, "f.cbf", "truncated");
    else file.pattern(k, pattern_of(bins, static_cast<double>(k)));
  }
  file.pattern(64, pattern_of(bins, 64.0));  // the last chunk: one frame of six, written at close
  file.error(1000, "x.cbf", "out of range: ignored");
  file.close();
  CHECK(file.write_error.empty());
  const sinks::H5File::Stats st = file.stats();
  CHECK(st.chunks_settled == 2);
  CHECK(st.chunks_at_close == 1);
  const h5::NxPatterns f = h5::read_patterns(dir / "failed.h5");
  REQUIRE(f.frames == frames);
  for (size_t k = 0; k < frames; ++k) {
    INFO("frame " << k);
    const bool written = k < 65 && k != 5 && k != 40;
    CHECK(f.valid[k] == (written ? 1 : 0));
    if (written) CHECK(f.intensity[k * bins + 1] == Approx(static_cast<double>(k) + 1.0));
    else CHECK(std::isnan(f.intensity[k * bins + 1]));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("H5File: a file that cannot be created (its writer thread creates it) fails the run at close, naming it") {
  const auto dir = test::temp_dir("sinks_h5_uncreatable");
  // A folder where the file should be: neither unlinked nor created over.
  std::filesystem::create_directories(dir / "row.h5" / "inside");
  sinks::H5File file(dir / "row.h5", layout_of(40, 3));
  file.open();  // returns at once: the writer thread creates the file
  for (size_t k = 0; k < 40; ++k) file.pattern(k, pattern_of(3, static_cast<double>(k)));  // never blocks, dropped
  CHECK_NOTHROW(file.close());
  CHECK_THAT(file.write_error, Catch::Contains("row.h5"));
  CHECK(std::filesystem::is_directory(dir / "row.h5" / "inside"));  // left as it was
  // open() again after a failure: the same error, nothing hangs.
  file.open();
  file.pattern(0, pattern_of(3, 1));
  file.close();
  CHECK_THAT(file.write_error, Catch::Contains("row.h5"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("RunSinks with nothing to keep or write discards; a failing text writer is kept, never thrown") {
  sinks::RunSinks none(sinks::SinkOptions{});
  none.reset(2);
  none.sink().pattern(0, pattern_of(3, 1));
  none.sink().error(1, "x", "y");
  CHECK(none.tally().ok == 1);
  CHECK(none.tally().failed == 1);
  CHECK(none.h5() == nullptr);
  CHECK(none.write_error().empty());

  int calls = 0;
  sinks::SinkOptions o;
  o.text = std::make_unique<sinks::TextFile>([&](const integration::Pattern&) {
    if (++calls == 2) throw std::runtime_error("disk full");
  });
  sinks::RunSinks text(std::move(o));
  text.reset(3);
  text.sink().pattern(0, pattern_of(3, 1));
  CHECK_NOTHROW(text.sink().pattern(1, pattern_of(3, 1)));
  text.sink().pattern(2, pattern_of(3, 1));  // after a failed write, nothing more is written
  CHECK(calls == 2);
  CHECK(text.text()->written == 1);
  CHECK(text.write_error() == "disk full");
  CHECK(text.tally().ok == 3);
  text.reset(3);
  CHECK(text.write_error().empty());
}

TEST_CASE("ResultsJsonReporter and Table1Reporter rewrite their files after every row") {
  const auto dir = test::temp_dir("reporters");
  Bench b;
  b.out_dir = dir;
  b.results.dataset.frames = 10;
  b.results.settings.repeats = 1;
  int saves = 0;
  ResultsJsonReporter json(b, [&](ResultsFile& f) {
    ++saves;
    f.settings.drop_caches = saves >= 2;
  });
  const std::vector<std::string> notes = {"a note under the table"};
  Table1Reporter md(dir / "table1.md", json, notes);
  Reporters all;
  CHECK(all.empty());
  all.add(&json);
  all.add(&md);

  ResultRow row;
  row.id = "sequential-cpu-MEM";
  row.strategy = "sequential";
  row.label = "sequential, CPU integration, MEM (hot)";
  row.integrator = "cpu";
  row.source = "MEM";
  row.device = "cpu";
  row.frames = 10;
  row.fps = summarize_fps({100, 110, 90});
  row.wall_s.runs = {0.1, 0.1, 0.1};
  row.wall_s.median = 0.1;
  row.valid = row.validated = true;
  row.paper = PaperValue{12.5, 0.5};
  all.report_row(row);
  ResultsFile back = read_results(dir / "results.json");
  REQUIRE(back.rows.size() == 1);
  CHECK(back.rows[0].id == "sequential-cpu-MEM");
  CHECK(back.rows[0].fps.median == 100);
  REQUIRE(back.rows[0].paper);
  CHECK(back.rows[0].paper->median_fps == 12.5);
  CHECK_FALSE(back.settings.drop_caches);

  row.id = "fused-cpu-MEM";
  row.strategy = "fused";
  all.report_row(row);
  back = read_results(dir / "results.json");
  REQUIRE(back.rows.size() == 2);
  CHECK(back.rows[1].id == "fused-cpu-MEM");
  CHECK(back.settings.drop_caches);  // before_save ran before this write
  CHECK(json.written().rows.size() == 2);

  std::ifstream f(dir / "table1.md");
  std::stringstream text;
  text << f.rdbuf();
  CHECK_THAT(text.str(), Catch::Contains("fused") && Catch::Contains("a note under the table"));
  CHECK_FALSE(std::filesystem::exists(dir / "table1.md.tmp"));

  b.results.interrupted = true;
  all.finalize();
  CHECK(read_results(dir / "results.json").interrupted);
  CHECK(saves == 3);
  std::filesystem::remove_all(dir);
}
