// pipeline: the oneTBB pipeline (tbb_pipeline.hpp) where each frame is read, decoded into a whole image with the
// fast decoder, then integrated on the same core by the engine (fast unless --engine says otherwise). Parallel over
// frames.
#include "strategies/tbb_pipeline.hpp"

namespace xrd::strategies {
namespace {

class Pipeline : public TbbPipeline {
 protected:
  void process(const RunContext& ctx, Token& tok, int thread) override {
    for (size_t k = 0; k < tok.count; ++k) {
      Item& it = tok.items[k];
      try {
        load_frame(ctx, it.frame, thread, it.fb);
        decode_frame(ctx, thread, it.fb, tok.image);
        integrate_whole(ctx, it, tok.image, thread);
      } catch (const std::exception& e) {
        it.error = failure_reason(e);
      }
    }
  }
};

}  // namespace

std::unique_ptr<Strategy> make_pipeline() { return std::make_unique<Pipeline>(); }

}  // namespace xrd::strategies
