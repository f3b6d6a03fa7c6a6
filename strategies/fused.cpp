// fused: the oneTBB pipeline (tbb_pipeline.hpp) where decoding and integration are fused: the payload is decoded a
// block of pixels at a time into a small cache-resident buffer and each block is accumulated into the frame's bins
// right away by the pixel-major engine. The 10 MB decoded image is never stored: memory traffic per frame is the
// compressed file plus the engine's compact layout.
#include "kernels/error.hpp"
#include "strategies/tbb_pipeline.hpp"

namespace xrd::strat {
namespace {

class Fused : public TbbPipeline {
  // Pixels per decoded block: the engine's own block (its weight offsets are indexed per kBlock pixels, so aligned
  // blocks start without a scan), 256 KB of int32: stays in L2.
  static constexpr size_t kBlock = integ::FastIntegrator::kBlock;

 protected:
  void process(const RunContext& ctx, Token& tok, int thread) override {
    load_frame(ctx, tok.frame, thread, tok.fb);
    const cbf::CbfView& v = tok.fb.view;
    tok.acc.clear();
    if (v.binary.element_type != bo::ElementType::i32) {
      // Narrow element types wrap at their own width: decode the whole frame the ordinary way.
      decode_frame(ctx, thread, tok.fb, tok.image);
      const double t = ctx.now();
      engine_->accumulate(0, tok.image, tok.acc);
      engine_->finish(tok.acc, tok.pattern);
      ctx.add(Stage::integrate, t, tok.frame, thread);
      return;
    }
    tok.image.resize(kBlock);
    const size_t pixels = v.binary.width * v.binary.height;
    const std::span<const uint8_t> in = v.payload;
    double t_decode = 0, t_integrate = 0;
    const double t0 = ctx.now();
    size_t pos = 0;
    uint32_t carry = 0;  // the last value of the previous block: byte-offset deltas continue across blocks
    for (size_t first = 0; first < pixels; first += kBlock) {
      const size_t count = std::min(kBlock, pixels - first);
      const std::span<int32_t> block(tok.image.data(), count);
      const double ta = ctx.now();
      const bo::DecodeResult r = bo::decode(in.subspan(pos), block);
      const bool more = first + count < pixels;
      if (!r.ok() && !(more && r.status == bo::DecodeStatus::trailing_bytes)) {
        // A bad stream: decode the whole frame the ordinary way for the error that names the byte in the file.
        decode_frame(ctx, thread, tok.fb, tok.image);
        throw Error(ctx.files[tok.frame].string(), "", "byte-offset stream: " + r.message());
      }
      if (carry != 0)
        for (auto& x : block) x = static_cast<int32_t>(static_cast<uint32_t>(x) + carry);
      carry = static_cast<uint32_t>(block[count - 1]);
      pos += r.bytes_used;
      const double tb = ctx.now();
      engine_->accumulate(first, block, tok.acc);
      const double tc = ctx.now();
      t_decode += tb - ta;
      t_integrate += tc - tb;
    }
    const double tf = ctx.now();
    engine_->finish(tok.acc, tok.pattern);
    t_integrate += ctx.now() - tf;
    // Two intervals per frame (decode, then integrate), each the sum of its blocks.
    if (ctx.profiler) {
      ctx.profiler->add(Stage::decode, t0, t0 + t_decode, tok.frame, thread);
      ctx.profiler->add(Stage::integrate, t0 + t_decode, t0 + t_decode + t_integrate, tok.frame, thread);
    }
  }
};

}  // namespace

std::unique_ptr<Strategy> make_fused() { return std::make_unique<Fused>(); }

}  // namespace xrd::strat
