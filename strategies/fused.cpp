// fused: the oneTBB pipeline (tbb_pipeline.hpp) where decoding and integration are fused: each payload is decoded a
// block of pixels at a time into a small cache-resident buffer and each block is accumulated into the frame's bins
// right away by the engine (the fast strip engine unless --engine says otherwise). The 10 MB decoded image is never stored. A token carries a group of frames
// (--batch, default 2) decoded block by block side by side: the engine's layout for a block, read from memory for
// the first frame of the group, is still in cache for the others (the layout, not the image, is most of the memory
// traffic once two cores share the memory bus).
#include "base/error.hpp"
#include "strategies/tbb_pipeline.hpp"

namespace xrd::strategies {
namespace {

class Fused : public TbbPipeline {
  // Pixels per decoded block: the engine's strip (a block starting on a strip boundary is its fast path),
  // 256 KB of int32: stays in L2.
  static constexpr size_t kBlock = integration::FastIntegrator::kBlock;

 protected:
  size_t group_size(const RunContext& ctx) const override {
    return ctx.opt.batch > 0 ? static_cast<size_t>(ctx.opt.batch) : 2;
  }

  void process(const RunContext& ctx, Token& tok, int thread) override {
    // Read the group; frames the codec cannot decode block by block (other element types than int32, which wrap at
    // their own width; codecs without block decoding), and every frame when the engine does not integrate in pieces
    // (--engine reference, csr-parallel, opencl), are done whole, the ordinary way.
    std::vector<Item*> blockwise;
    size_t pixels = 0;
    for (size_t k = 0; k < tok.count; ++k) {
      Item& it = tok.items[k];
      try {
        load_frame(ctx, it.frame, thread, it.fb);
        pixels = it.fb.pixels();  // the geometry's shape: load_frame checked
        if (engine_->blockwise() && it.blocks.start(it.fb)) {
          it.acc.clear();
          blockwise.push_back(&it);
          continue;
        }
        decode_frame(ctx, thread, it.fb, tok.image);
        integrate_whole(ctx, it, tok.image, thread);
      } catch (const std::exception& e) {
        it.error = failure_reason(e);
      }
    }
    if (blockwise.empty()) return;

    tok.image.resize(kBlock);
    std::vector<double> t_decode(blockwise.size(), 0.0), t_integrate(blockwise.size(), 0.0);
    const double t0 = ctx.now();
    for (size_t first = 0; first < pixels; first += kBlock) {
      const size_t count = std::min(kBlock, pixels - first);
      const std::span<int32_t> block(tok.image.data(), count);
      for (size_t k = 0; k < blockwise.size(); ++k) {
        Item& it = *blockwise[k];
        if (!it.error.empty()) continue;
        const double ta = ctx.now();
        try {
          it.blocks.next(block);
        } catch (const std::exception& e) {
          it.error = failure_reason(e);
          continue;
        }
        const double tb = ctx.now();
        engine_->accumulate(first, block, it.acc);
        const double tc = ctx.now();
        t_decode[k] += tb - ta;
        t_integrate[k] += tc - tb;
      }
    }
    double t = t0;
    for (size_t k = 0; k < blockwise.size(); ++k) {
      Item& it = *blockwise[k];
      if (!it.error.empty()) continue;
      const double tf = ctx.now();
      engine_->finish(it.acc, it.pattern);
      t_integrate[k] += ctx.now() - tf;
      // Two intervals per frame (decode, then integrate), each the sum of its blocks, laid end to end.
      if (ctx.profiler) {
        ctx.profiler->add(Stage::decode, t, t + t_decode[k], it.frame, thread);
        ctx.profiler->add(Stage::integrate, t + t_decode[k], t + t_decode[k] + t_integrate[k], it.frame, thread);
      }
      t += t_decode[k] + t_integrate[k];
    }
  }
};

}  // namespace

std::unique_ptr<Strategy> make_fused() { return std::make_unique<Fused>(); }

}  // namespace xrd::strategies
