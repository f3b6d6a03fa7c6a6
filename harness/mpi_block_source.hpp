// A rank's share of the frames under mpirun: a FrameSource that views a contiguous block of another source (frame k
// of the block is frame first + k of the dataset), so strategies run unchanged on their rank's frames.
#pragma once
#include <memory>

#include "datasets/frame_source.hpp"

namespace xrd::harness::mpi {

class BlockSource : public frames::FrameSource {
 public:
  // Throws xrd::Error when [first, first + count) is not inside the source.
  BlockSource(std::shared_ptr<const frames::FrameSource> base, size_t first, size_t count);

  size_t size() const override { return count_; }
  size_t first() const { return first_; }
  std::string origin(size_t i) const override { return base_->origin(first_ + i); }
  // Loads frame first + i; the frame's index is i (its position in this block, as strategies number frames).
  void load(size_t i, frames::EncodedFrame& frame) const override;
  void prefetch(size_t i) const override { base_->prefetch(first_ + i); }
  void set_read_method(io::ReadMethod m) const override { base_->set_read_method(m); }
  io::ReadMethod read_method() const override { return base_->read_method(); }
  size_t max_frame_bytes() const override { return base_->max_frame_bytes(); }
  // The block's files when the base holds one file per frame; otherwise every file of the base (the block's frames
  // may be anywhere in them).
  std::vector<std::filesystem::path> files() const override;
  bool acquire(size_t i) const override { return base_->acquire(first_ + i); }

 private:
  std::shared_ptr<const frames::FrameSource> base_;
  size_t first_ = 0, count_ = 0;
};

}  // namespace xrd::harness::mpi
