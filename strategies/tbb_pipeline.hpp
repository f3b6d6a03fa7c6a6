// The oneTBB parallel_pipeline shared by our CPU designs: a serial in-order filter hands out frame indices, a
// parallel filter does the frame's whole work on one core (read, parse, decode, integrate: the subclass says how),
// a serial in-order filter hands the results to the sink. A bounded number of frames is in flight (tokens), each
// with its own reused buffers, so memory stays fixed and the cores never wait on each other.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <tbb/task_arena.h>

#include "kernels/integrate_fast.hpp"
#include "strategies/steps.hpp"

namespace xrd::strat {

class TbbPipeline : public Strategy {
 public:
  void prepare(RunContext& ctx) override;
  void run(RunContext& ctx) override;

 protected:
  // One frame in flight and the buffers it reuses.
  struct Token {
    size_t frame = 0;
    FrameBuffer fb;
    std::vector<int32_t> image;                 // decoded pixels (a whole frame, or one block when fused)
    integ::FastIntegrator::Accumulator acc;
    integ::Pattern pattern;
    std::string error;                          // non-empty: the frame failed (the reason)
  };
  // The parallel filter's work on one frame: fill tok.pattern, or throw. thread = the arena's thread index.
  virtual void process(const RunContext& ctx, Token& tok, int thread) = 0;

  std::unique_ptr<integ::FastIntegrator> engine_;

 private:
  std::unique_ptr<tbb::task_arena> arena_;
  std::vector<std::unique_ptr<Token>> tokens_;
  std::vector<Token*> free_;
  std::mutex free_mu_;
};

}  // namespace xrd::strat
