// Every strategy computes what the reference computes (sequential, scalar decoder, plain CSR), on the CPU and, where
// an OpenCL device exists (PoCL in CI), on the device; a corrupt frame among good ones is reported and the others
// kept; the pool delivers in frame order; Ctrl-C (the stop flag) stops a strategy between frames.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>

#include "base/profiler.hpp"
#include "datasets/cbf.hpp"
#include "strategies/engines.hpp"
#include "kernels/ocl_device.hpp"
#include "tests/test_strategies_support.hpp"

using namespace xrd;
using xrd::test::CollectingSink;

namespace {

CollectingSink run_strategy(const harness::Dataset& ds, const std::string& name, strategies::Options o,
                            ocl::DeviceContext* dev = nullptr, int runs = 1, const std::atomic<bool>* stop = nullptr,
                            strategies::Kernels* kernels = nullptr) {
  CollectingSink sink(ds.files.size(), static_cast<size_t>(ds.setup.csr.bins));
  StageProfiler prof;
  strategies::RunContext ctx;
  ctx.source = ds.source.get();
  ctx.setup = &ds.setup;
  ctx.device = dev;
  ctx.opt = o;
  ctx.sink = &sink;
  ctx.profiler = &prof;
  ctx.stop = stop;
  auto s = strategies::find_strategy(name).make();
  s->prepare(ctx);
  if (kernels) *kernels = s->kernels();
  for (int r = 0; r < runs; ++r) {  // buffers are reused from run to run: the last run must be as good
    sink = CollectingSink(ds.files.size(), static_cast<size_t>(ds.setup.csr.bins));
    s->run(ctx);
  }
  return sink;
}

strategies::Options options(const strategies::StrategyInfo& info, strategies::Integrator integ) {
  strategies::Options o;
  o.integrator = integ;
  o.threads = 2;
  if (info.uses_readers) o.readers = 3;
  o.batch = 4;
  return o;
}

void check_equal(const CollectingSink& ref, const CollectingSink& got, size_t expect_compared) {
  const auto c = harness::compare_patterns(ref.patterns, got.patterns);
  INFO(c.worst);
  CHECK(c.frames_compared == expect_compared);
  CHECK(c.frames_missing == 0);
  CHECK(c.max_rel_diff <= harness::kValidationTolerance);
  CHECK(c.bins_compared > expect_compared * 10);
}

std::unique_ptr<ocl::DeviceContext> any_device() {
  if (ocl::list_devices().empty()) return nullptr;
  return std::make_unique<ocl::DeviceContext>("opencl");
}

}  // namespace

TEST_CASE("the registry lists every strategy once, with a description") {
  std::set<std::string> names;
  for (auto& s : strategies::strategies()) {
    CHECK(!s.description.empty());
    CHECK(names.insert(s.name).second);
  }
  for (const char* n : {"sequential", "pool", "opencl", "pipeline", "fused", "opencl-batched"}) CHECK(names.count(n));
  CHECK_THROWS_WITH(strategies::find_strategy("nope"), Catch::Contains("known: sequential"));
}

TEST_CASE("every CPU strategy reproduces the reference patterns") {
  const auto ds = test::load_tiny(test::make_tiny_dataset("strat_equal", 7));
  strategies::Options ref_opt;
  ref_opt.reference = true;
  const auto ref = run_strategy(ds, "sequential", ref_opt);
  REQUIRE(ref.errors.empty());
  for (auto& info : strategies::strategies()) {
    if (info.needs_device) continue;
    SECTION(info.name) {
      const auto got = run_strategy(ds, info.name, options(info, strategies::Integrator::cpu), nullptr, 2);
      CHECK(got.errors.empty());
      check_equal(ref, got, ds.files.size());
    }
  }
}

TEST_CASE("every engine of the table, in the strategies that integrate host images, reproduces the reference") {
  const auto ds = test::load_tiny(test::make_tiny_dataset("strat_engines", 5));
  strategies::Options ref_opt;
  ref_opt.reference = true;
  strategies::Kernels k;
  const auto ref = run_strategy(ds, "sequential", ref_opt, nullptr, 1, nullptr, &k);
  REQUIRE(ref.errors.empty());
  // The reference row says what it ran: the scalar decoder and the reference engine.
  CHECK(k.decoder == "scalar");
  CHECK(k.engine == "reference");
  CHECK(k.engine_variant.empty());
  auto dev = any_device();
  for (const auto& e : strategies::engines()) {
    if (e.needs_device && !dev) {
      WARN("no OpenCL device: the " << e.name << " engine is not tested (install pocl-opencl-icd)");
      continue;
    }
    for (const char* strategy : {"sequential", "pool", "pipeline", "fused"}) {
      SECTION(e.name + " in " + strategy) {
        auto o = options(strategies::find_strategy(strategy), strategies::Integrator::cpu);
        o.engine = e.name;
        const auto got = run_strategy(ds, strategy, o, e.needs_device ? dev.get() : nullptr, 2, nullptr, &k);
        CHECK(got.errors.empty());
        check_equal(ref, got, ds.files.size());
        CHECK(k.engine == e.name);
        CHECK(k.decoder == frames::decoder_name(frames::Codec::byte_offset));
        if (e.name == "fast") CHECK((k.engine_variant == "avx2-gather" || k.engine_variant == "scalar"));
        if (e.needs_device) CHECK(k.engine_variant == dev->name());
      }
    }
  }
  // The default engine of the CPU strategies is fast; an unknown one fails prepare() naming the known ones.
  run_strategy(ds, "pipeline", options(strategies::find_strategy("pipeline"), strategies::Integrator::cpu), nullptr, 1,
               nullptr, &k);
  CHECK(k.engine == "fast");
  auto bad = options(strategies::find_strategy("pipeline"), strategies::Integrator::cpu);
  bad.engine = "nope";
  CHECK_THROWS_WITH(run_strategy(ds, "pipeline", bad), Catch::Contains("known: reference, csr-parallel, fast"));
  bad.engine = "opencl";
  CHECK_THROWS_WITH(run_strategy(ds, "sequential", bad), Catch::Contains("needs an OpenCL device"));
}

TEST_CASE("device strategies and GPU integration reproduce the reference patterns (OpenCL)") {
  auto dev = any_device();
  if (!dev) {
    WARN("no OpenCL device: skipped (install pocl-opencl-icd)");
    return;
  }
  const auto ds = test::load_tiny(test::make_tiny_dataset("strat_equal_gpu", 5));
  strategies::Options ref_opt;
  ref_opt.reference = true;
  const auto ref = run_strategy(ds, "sequential", ref_opt);
  for (auto& info : strategies::strategies()) {
    if (!info.needs_device && info.name != "sequential" && info.name != "pool") continue;
    SECTION(info.name) {
      INFO("device " << dev->name());
      const auto got = run_strategy(ds, info.name, options(info, strategies::Integrator::gpu), dev.get(), 2);
      CHECK(got.errors.empty());
      check_equal(ref, got, ds.files.size());
    }
  }
}

TEST_CASE("a corrupt frame is reported with its file and the other frames are kept") {
  const auto dir = test::make_tiny_dataset("strat_corrupt", 6, /*corrupt=*/2);
  const auto ds = test::load_tiny(dir);
  strategies::Options ref_opt;
  ref_opt.reference = true;
  const auto ref = run_strategy(ds, "sequential", ref_opt);
  REQUIRE(ref.errors.size() == 1);
  auto dev = any_device();
  for (auto& info : strategies::strategies()) {
    if (info.needs_device && !dev) continue;
    SECTION(info.name) {
      const auto got = run_strategy(ds, info.name,
                                    options(info, info.needs_device ? strategies::Integrator::gpu : strategies::Integrator::cpu),
                                    dev.get());
      REQUIRE(got.errors.size() == 1);
      CHECK(got.errors[0].first == 2);
      CHECK_THAT(got.errors[0].second, Catch::Contains("frame_00002.cbf"));
      CHECK(!got.patterns.present(2));
      check_equal(ref, got, ds.files.size() - 1);
      CHECK(got.order == std::vector<size_t>{0, 1, 2, 3, 4, 5});
    }
  }
}

TEST_CASE("the pool hands frames to the sink in frame order, whatever the readers' speed") {
  const auto ds = test::load_tiny(test::make_tiny_dataset("strat_order", 40, /*corrupt=*/17));
  const auto& info = strategies::find_strategy("pool");
  for (int readers : {1, 4, 12}) {
    auto o = options(info, strategies::Integrator::cpu);
    o.readers = readers;
    const auto got = run_strategy(ds, "pool", o, nullptr, 3);
    REQUIRE(got.order.size() == 40);
    for (size_t i = 0; i < got.order.size(); ++i) CHECK(got.order[i] == i);
  }
}

TEST_CASE("opencl-batched delivers in frame order with readers racing to fill small batches") {
  auto dev = any_device();
  if (!dev) {
    WARN("no OpenCL device: skipped (install pocl-opencl-icd)");
    return;
  }
  const auto ds = test::load_tiny(test::make_tiny_dataset("strat_order_ocl", 23, /*corrupt=*/9));
  strategies::Options ref_opt;
  ref_opt.reference = true;
  const auto ref = run_strategy(ds, "sequential", ref_opt);
  for (int readers : {1, 5}) {
    strategies::Options o;
    o.readers = readers;
    o.batch = 3;
    const auto got = run_strategy(ds, "opencl-batched", o, dev.get(), 4);
    REQUIRE(got.order.size() == 23);
    for (size_t i = 0; i < got.order.size(); ++i) CHECK(got.order[i] == i);
    REQUIRE(got.errors.size() == 1);
    CHECK(got.errors[0].first == 9);
    check_equal(ref, got, 22);
  }
}

TEST_CASE("opencl-batched --read-method direct reads whole files into the staging: same patterns, bad frames kept apart") {
  auto dev = any_device();
  if (!dev) {
    WARN("no OpenCL device: skipped (install pocl-opencl-icd)");
    return;
  }
  // Frame 9's payload ends in escapes past the stream (the device says so); frame 15 is cut short inside its
  // payload (the header promises more bytes than the file holds: found after the whole file is in the staging).
  const auto dir = test::make_tiny_dataset("strat_whole_file", 23, /*corrupt=*/9);
  {
    auto bytes = test::read_bytes(dir / "frame_00015.cbf");
    const auto view = cbf::parse(bytes, "frame_00015.cbf");
    bytes.resize(view.binary.payload_offset + view.binary.binary_size / 2);
    test::write_bytes(dir / "frame_00015.cbf", bytes);
  }
  const auto ds = test::load_tiny(dir);
  strategies::Options ref_opt;
  ref_opt.reference = true;
  const auto ref = run_strategy(ds, "sequential", ref_opt);
  REQUIRE(ref.errors.size() == 2);
  ds.source->set_read_method(io::ReadMethod::direct);
  for (int readers : {1, 5}) {
    INFO(readers << " readers");
    strategies::Options o;
    o.readers = readers;
    o.batch = 3;
    const auto got = run_strategy(ds, "opencl-batched", o, dev.get(), 3);
    REQUIRE(got.order.size() == 23);
    for (size_t i = 0; i < got.order.size(); ++i) CHECK(got.order[i] == i);
    for (const auto& [f, why] : got.errors) UNSCOPED_INFO(f << ": " << why);
    REQUIRE(got.errors.size() == 2);
    CHECK(got.errors[0].first == 9);
    CHECK_THAT(got.errors[0].second, Catch::Contains("frame_00009.cbf"));
    CHECK(got.errors[1].first == 15);
    CHECK_THAT(got.errors[1].second, Catch::Contains("frame_00015.cbf"));
    CHECK(!got.patterns.present(9));
    CHECK(!got.patterns.present(15));
    check_equal(ref, got, 21);
  }
  ds.source->set_read_method(io::ReadMethod::pread);
}

TEST_CASE("a raised stop flag ends a run before every frame is done") {
  const auto ds = test::load_tiny(test::make_tiny_dataset("strat_stop", 6));
  std::atomic<bool> stop{true};
  for (auto& info : strategies::strategies()) {
    if (info.needs_device) continue;
    SECTION(info.name) {
      const auto got = run_strategy(ds, info.name, options(info, strategies::Integrator::cpu), nullptr, 1, &stop);
      CHECK(got.order.empty());
    }
  }
}

TEST_CASE("strategies time their stages into the profiler") {
  const auto ds = test::load_tiny(test::make_tiny_dataset("strat_stages", 3));
  for (const char* name : {"sequential", "pool", "pipeline", "fused"}) {
    CollectingSink sink(ds.files.size(), static_cast<size_t>(ds.setup.csr.bins));
    StageProfiler prof;
    strategies::RunContext ctx;
    ctx.source = ds.source.get();
    ctx.setup = &ds.setup;
    ctx.sink = &sink;
    ctx.profiler = &prof;
    ctx.opt = options(strategies::find_strategy(name), strategies::Integrator::cpu);
    auto s = strategies::find_strategy(name).make();
    s->prepare(ctx);
    s->run(ctx);
    INFO(name);
    CHECK(prof.count(Stage::read) == 3);
    CHECK(prof.count(Stage::decode) == 3);
    CHECK(prof.count(Stage::integrate) == 3);
    CHECK(prof.count(Stage::write) == 3);
    CHECK(prof.total_seconds(Stage::decode) > 0);
  }
}
