// See mpi_block_source.hpp.
#include "harness/mpi_block_source.hpp"

#include "base/error.hpp"

namespace xrd::harness::mpi {

BlockSource::BlockSource(std::shared_ptr<const frames::FrameSource> base, size_t first, size_t count)
    : base_(std::move(base)), first_(first), count_(count) {
  if (!base_ || first_ + count_ > base_->size())
    throw Error("", "frames", "block [" + std::to_string(first_) + ", " + std::to_string(first_ + count_) +
                                  ") is outside the source's " + std::to_string(base_ ? base_->size() : 0) + " frames");
}

void BlockSource::load(size_t i, frames::EncodedFrame& frame) const {
  base_->load(first_ + i, frame);
  frame.index = i;
}

std::vector<std::filesystem::path> BlockSource::files() const {
  auto all = base_->files();
  if (all.size() != base_->size()) return all;
  return {all.begin() + static_cast<std::ptrdiff_t>(first_), all.begin() + static_cast<std::ptrdiff_t>(first_ + count_)};
}

}  // namespace xrd::harness::mpi
