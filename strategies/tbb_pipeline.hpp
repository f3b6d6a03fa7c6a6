// The oneTBB parallel_pipeline shared by our CPU designs: a serial in-order filter hands out a group of consecutive
// frames, a parallel filter does the group's whole work on one core (read, parse, decode, integrate: the subclass
// says how), a serial in-order filter hands the results to the sink in frame order. A bounded number of groups is in
// flight (tokens), each with its own reused buffers, so memory stays fixed and the cores never wait on each other.
// Options::read_ahead > 0: the workers take their frames from a ReadAheadSource (datasets/frame_read_ahead.hpp) whose
// reader threads keep that many reads in flight ahead of them (cold rows: the disk busy while the cores compute);
// 0: each worker reads the frames it decodes, with posix_fadvise asking the disk for the next files.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <tbb/task_arena.h>

#include "kernels/integrate_engine.hpp"
#include "strategies/steps.hpp"

namespace xrd::strategies {

class TbbPipeline : public Strategy {
 public:
  void prepare(RunContext& ctx) override;
  void run(RunContext& ctx) override;

 protected:
  // One frame of a group and the buffers it reuses.
  struct Item {
    size_t frame = 0;
    FrameBuffer fb;
    integration::Accumulator acc;                         // blockwise engines: the frame's sums
    std::unique_ptr<integration::Engine::Workspace> ws;  // other engines: their scratch memory
    integration::Pattern pattern;
    std::string error;  // non-empty: the frame failed (the reason); the other frames of the group go on
    frames::BlockDecoder blocks;  // a frame decoded block by block (fused)
  };
  // A group of consecutive frames in flight.
  struct Token {
    std::vector<Item> items;     // group_size() of them; the first `count` are this group
    size_t count = 0;
    std::vector<int32_t> image;  // decoded pixels (a whole frame, or one block when fused)
  };
  // Frames per group (1 = frame by frame).
  virtual size_t group_size(const RunContext& ctx) const { return 1; }
  // The parallel filter's work on one group: fill each item's pattern, or its error. thread = the arena's index.
  virtual void process(const RunContext& ctx, Token& tok, int thread) = 0;
  // Integrates a whole decoded frame into it.pattern on this core (Stage::integrate): a blockwise engine sums it as one
  // piece; the others run their integrate() (serialized when the engine is not concurrent, as a device's).
  void integrate_whole(const RunContext& ctx, Item& it, std::span<const int32_t> image, int thread);

  std::unique_ptr<integration::Engine> engine_;  // make_engine(ctx): fast unless --engine says otherwise

 private:
  std::unique_ptr<tbb::task_arena> arena_;
  std::vector<std::unique_ptr<Token>> tokens_;
  std::vector<Token*> free_;
  std::mutex free_mu_;
  std::mutex engine_mu_;  // engines that are not concurrent
};

}  // namespace xrd::strategies
