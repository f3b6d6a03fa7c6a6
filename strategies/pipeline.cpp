// pipeline: the oneTBB pipeline (tbb_pipeline.hpp) where each frame is read, decoded into a whole image with the
// fast decoder, then integrated on the same core by the fast pixel-major engine. Parallel over frames.
#include "strategies/tbb_pipeline.hpp"

namespace xrd::strat {
namespace {

class Pipeline : public TbbPipeline {
 protected:
  void process(const RunContext& ctx, Token& tok, int thread) override {
    load_frame(ctx, tok.frame, thread, tok.fb);
    decode_frame(ctx, thread, tok.fb, tok.image);
    const double t = ctx.now();
    tok.acc.clear();
    engine_->accumulate(0, tok.image, tok.acc);
    engine_->finish(tok.acc, tok.pattern);
    ctx.add(Stage::integrate, t, tok.frame, thread);
  }
};

}  // namespace

std::unique_ptr<Strategy> make_pipeline() { return std::make_unique<Pipeline>(); }

}  // namespace xrd::strat
