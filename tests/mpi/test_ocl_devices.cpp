// `--device opencl:local-rank` and `opencl:all` (kernels/ocl_device.cpp), and opencl-batched spreading its batches
// over several engines (strategies/opencl_batched.cpp). CI has one OpenCL device (PoCL): the spread is exercised
// with two contexts on that device, which is what two GPUs look like to the strategy (one engine per context).
#include <catch2/catch.hpp>

#include <cstdlib>

#include "base/profiler.hpp"
#include "harness/mpi.hpp"
#include "harness/mpi_block_source.hpp"
#include "base/error.hpp"
#include "kernels/ocl_device.hpp"
#include "tests/test_strategies_support.hpp"

using namespace xrd;
using xrd::test::CollectingSink;

namespace {

CollectingSink run_batched(const harness::Dataset& ds, ocl::DeviceContext& dev,
                           std::vector<ocl::DeviceContext*> extra, const frames::FrameSource* source = nullptr) {
  const frames::FrameSource* src = source ? source : ds.source.get();
  CollectingSink sink(src->size(), static_cast<size_t>(ds.setup.csr.bins));
  StageProfiler prof;
  strategies::RunContext ctx;
  ctx.source = src;
  ctx.setup = &ds.setup;
  ctx.device = &dev;
  ctx.extra_devices = std::move(extra);
  ctx.opt.readers = 3;
  ctx.opt.batch = 2;
  ctx.sink = &sink;
  ctx.profiler = &prof;
  auto s = strategies::find_strategy("opencl-batched").make();
  s->prepare(ctx);
  for (int r = 0; r < 2; ++r) {  // the engines' slots are reused: the second run must be as good
    sink = CollectingSink(src->size(), static_cast<size_t>(ds.setup.csr.bins));
    s->run(ctx);
  }
  return sink;
}

}  // namespace

TEST_CASE("opencl:all and opencl:local-rank resolve to the host's devices") {
  const auto devices = ocl::list_devices();
  if (devices.empty()) {
    WARN("no OpenCL device: skipped (install pocl-opencl-icd)");
    return;
  }
  size_t gpus = 0;
  for (auto& d : devices) gpus += d.is_gpu ? 1 : 0;
  const auto first = ocl::parse_device_spec("opencl");
  const auto all = ocl::parse_device_spec("opencl:all");
  CHECK(all.device.id() == first.device.id());
  // Every GPU, or (none) the one device `opencl` picks: on PoCL opencl:all is opencl.
  CHECK(all.all.size() == (gpus > 0 ? gpus : 1));
  CHECK(all.all.front().id() == all.device.id());
  CHECK(ocl::parse_device_spec("opencl:0:all").device.id() == all.device.id());
  CHECK(ocl::parse_device_spec("opencl").all.empty());

  // Rank i of a host takes device i mod count (GPUs, or every device when there is none).
  std::vector<std::string> pool;
  for (auto& d : devices)
    if (d.is_gpu == (gpus > 0)) pool.push_back(d.id());
  for (int rank = 0; rank < 5; ++rank)
    CHECK(ocl::parse_device_spec("opencl:local-rank", rank).device.id() == pool[static_cast<size_t>(rank) % pool.size()]);
  CHECK(ocl::parse_device_spec("opencl:0:local-rank", 3).device.platform_index == 0);
  // Outside mpirun (no OMPI_COMM_WORLD_LOCAL_RANK) the first one.
  if (!std::getenv("OMPI_COMM_WORLD_LOCAL_RANK"))
    CHECK(ocl::parse_device_spec("opencl:local-rank").device.id() == pool.front());
  CHECK_THROWS_AS(ocl::parse_device_spec("opencl:no-such-platform:all"), Error);
}

TEST_CASE("opencl-batched spreads its batches over several engines and keeps every frame in order") {
  if (ocl::list_devices().empty()) {
    WARN("no OpenCL device: skipped (install pocl-opencl-icd)");
    return;
  }
  const auto ds = test::load_tiny(test::make_tiny_dataset("ocl_all", 13, /*corrupt=*/6));
  ocl::DeviceContext one("opencl"), two("opencl"), three("opencl");
  const auto single = run_batched(ds, one, {});
  REQUIRE(single.errors.size() == 1);
  for (auto extra : {std::vector<ocl::DeviceContext*>{&two}, std::vector<ocl::DeviceContext*>{&two, &three}}) {
    const auto spread = run_batched(ds, one, extra);
    REQUIRE(spread.order.size() == 13);
    for (size_t i = 0; i < spread.order.size(); ++i) CHECK(spread.order[i] == i);
    REQUIRE(spread.errors.size() == 1);
    CHECK(spread.errors[0].first == 6);
    const auto c = harness::compare_patterns(single.patterns, spread.patterns);
    CHECK(c.frames_compared == 12);
    CHECK(c.max_rel_diff == 0.0);  // the same kernels on the same device: bit-identical
  }
}

TEST_CASE("a rank's BlockSource is frame first + k of the dataset, and strategies run on it unchanged") {
  const auto ds = test::load_tiny(test::make_tiny_dataset("block_source", 7));
  size_t covered = 0;
  for (int rank = 0; rank < 3; ++rank) {
    const auto b = harness::mpi::block_of(7, rank, 3);
    CHECK(b.first == covered);
    covered += b.count;
    harness::mpi::BlockSource src(ds.source, b.first, b.count);
    REQUIRE(src.size() == b.count);
    REQUIRE(src.files().size() == b.count);
    for (size_t k = 0; k < b.count; ++k) {
      CHECK(src.origin(k) == ds.source->origin(b.first + k));
      CHECK(src.files()[k] == ds.files[b.first + k]);
      frames::EncodedFrame f;
      src.load(k, f);
      CHECK(f.index == k);
      CHECK(f.origin == ds.source->origin(b.first + k));
    }
  }
  CHECK(covered == 7);
  CHECK(harness::mpi::block_of(2, 2, 3).count == 1);
  CHECK(harness::mpi::block_of(2, 0, 3).count == 0);  // more ranks than frames: some ranks get none
  CHECK_THROWS_AS(harness::mpi::BlockSource(ds.source, 5, 3), Error);
}
