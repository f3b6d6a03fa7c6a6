#include "strategies/tbb_pipeline.hpp"

#include "datasets/frame_read_ahead.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include <tbb/parallel_pipeline.h>

namespace xrd::strategies {

void TbbPipeline::prepare(RunContext& ctx) {
  const int threads = worker_threads(ctx.opt.threads);
  arena_ = std::make_unique<tbb::task_arena>(threads);
  engine_ = make_engine(ctx, threads);
  kernels_ = host_kernels(ctx, *engine_, false);
  // Two groups per thread in flight: one being worked on, one read ahead or waiting to be written.
  const int ntokens = ctx.opt.readers > 0 ? ctx.opt.readers : 2 * threads;
  const size_t group = std::max<size_t>(1, group_size(ctx));
  tokens_.clear();
  for (int i = 0; i < ntokens; ++i) {
    auto t = std::make_unique<Token>();
    t->items.resize(group);
    for (auto& it : t->items) {
      if (engine_->blockwise())
        it.acc = engine_->make_accumulator();
      else
        it.ws = engine_->make_workspace();
    }
    tokens_.push_back(std::move(t));
  }
}

void TbbPipeline::integrate_whole(const RunContext& ctx, Item& it, std::span<const int32_t> image, int thread) {
  const double t = ctx.now();
  if (engine_->blockwise()) {
    it.acc.clear();
    engine_->accumulate(0, image, it.acc);
    engine_->finish(it.acc, it.pattern);
  } else if (engine_->concurrent()) {
    engine_->integrate(image, it.pattern, it.ws.get());
  } else {
    std::lock_guard<std::mutex> l(engine_mu_);
    engine_->integrate(image, it.pattern, it.ws.get());
  }
  ctx.add(Stage::integrate, t, it.frame, thread);
}

void TbbPipeline::run(RunContext& given) {
  RunContext ctx = given;
  const size_t n = ctx.frames(), group = tokens_.front()->items.size();
  // --read-ahead: reader threads read the frames in order into a ring that holds every group in flight and a few
  // frames more per reader; the workers take them from there (no copy). Not over paced sources (their frames are
  // released on a clock: reading ahead would read frames the detector has not sent yet).
  std::optional<frames::ReadAheadSource> read_ahead;
  const bool paced = n > 0 && ctx.source->release_time(0) != std::chrono::steady_clock::time_point{};
  if (ctx.opt.read_ahead > 0 && n > 0 && !paced) {
    const size_t depth = tokens_.size() * group + 2 * static_cast<size_t>(ctx.opt.read_ahead);
    read_ahead.emplace(*ctx.source, ctx.opt.read_ahead, depth);
    ctx.source = &*read_ahead;
  }
  // Without read-ahead: files asked of the disk (posix_fadvise) ahead of the one being handed out.
  const size_t ahead = read_ahead ? 0 : 2 * tokens_.size() * group;
  size_t next = 0;
  free_.clear();  // every token is free between runs (a run that threw may have left some out)
  for (auto& t : tokens_) free_.push_back(t.get());
  for (size_t i = 0; i < ahead; ++i) prefetch(ctx, i);
  auto take = [&] {
    std::lock_guard<std::mutex> l(free_mu_);
    Token* t = free_.back();
    free_.pop_back();
    return t;
  };
  auto give = [&](Token* t) {
    std::lock_guard<std::mutex> l(free_mu_);
    free_.push_back(t);
  };
  arena_->execute([&] {
    if (ctx.profiler)
      for (int i = 0; i < arena_->max_concurrency(); ++i)
        ctx.profiler->set_thread_name(i, "worker " + std::to_string(i));
    tbb::parallel_pipeline(
        tokens_.size(),
        tbb::make_filter<void, Token*>(tbb::filter_mode::serial_in_order,
                                       [&](tbb::flow_control& fc) -> Token* {
                                         if (next >= n || ctx.stopped()) {
                                           fc.stop();
                                           return nullptr;
                                         }
                                         Token* t = take();
                                         t->count = std::min(group, n - next);
                                         for (size_t k = 0; k < t->count; ++k) {
                                           // Keep the disk ahead of the cores (cold runs).
                                           if (ahead) prefetch(ctx, next + ahead);
                                           t->items[k].frame = next++;
                                           t->items[k].error.clear();
                                         }
                                         return t;
                                       }) &
            tbb::make_filter<Token*, Token*>(tbb::filter_mode::parallel,
                                             [&](Token* t) {
                                               const int th = tbb::this_task_arena::current_thread_index();
                                               try {
                                                 process(ctx, *t, th);
                                               } catch (const std::exception& e) {
                                                 for (size_t k = 0; k < t->count; ++k)
                                                   if (t->items[k].error.empty())
                                                     t->items[k].error = failure_reason(e);
                                               }
                                               return t;
                                             }) &
            tbb::make_filter<Token*, void>(tbb::filter_mode::serial_in_order, [&](Token* t) {
              const int th = tbb::this_task_arena::current_thread_index();
              for (size_t k = 0; k < t->count; ++k) {
                const Item& it = t->items[k];
                if (it.error.empty())
                  deliver(ctx, it.frame, th, it.pattern);
                else
                  deliver_error(ctx, it.frame, th, it.error);
              }
              give(t);
            }));
  });
  // Diagnostics (XRD_DEBUG_READ_AHEAD=1): how many frames came from the readers' ring and how many the workers read
  // themselves (the ring was full, or the readers could not reach the frame).
  if (read_ahead && std::getenv("XRD_DEBUG_READ_AHEAD"))
    std::fprintf(stderr, "read-ahead: %zu frames from the ring, %zu read by the workers (%d readers, depth %zu)\n",
                 read_ahead->from_ring(), read_ahead->read_by_consumer(), read_ahead->readers(), read_ahead->depth());
}

}  // namespace xrd::strategies
