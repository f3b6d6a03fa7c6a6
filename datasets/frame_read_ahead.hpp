// Read-ahead (`--read-ahead N`): a frame source over another whose N reader threads read the encoded frames ahead of
// the consumers, in frame order, into a bounded ring of buffers, so that the disk always has N requests in flight
// while the consumers' cores decode and integrate (cold rows at the disk's bound). load(i) hands frame i's bytes over
// without a copy (the buffers are swapped: the consumer's previous storage goes back to the ring).
//
// - A frame that cannot be read keeps its error: load(i) of that frame throws it (the base source's xrd::Error naming
//   the file and byte offset); the other frames are unaffected.
// - The ring holds at most `depth` frames read but not yet taken. A consumer that asks for a frame the readers cannot
//   reach now (the ring is full of frames before it, which nobody has taken yet) reads it itself, and the readers
//   skip it: no order of load() calls, and no consumer that stops early, can deadlock the source.
// - A frame asked for twice (or after the readers passed it) is read from the base source again.
// - The destructor (or stop()) ends the readers after the frame each is reading and joins them.
// - The readers do not call acquire(): use it over sources whose frames are all there at once (not paced ones).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "datasets/frame_source.hpp"

namespace xrd::frames {

class ReadAheadSource : public FrameSource {
 public:
  // Starts `readers` (>= 1) threads reading base's frames [0, base.size()) in order, at most `depth` (>= 1; 0 =
  // 2 * readers) frames ahead of the consumers. `base` must outlive this source.
  ReadAheadSource(const FrameSource& base, int readers, size_t depth = 0);
  ~ReadAheadSource() override;
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  // Stops the readers after the frames they are reading and joins them (idempotent). Later load() calls read from
  // the base source.
  void stop();

  size_t size() const override { return base_.size(); }
  std::string origin(size_t i) const override { return base_.origin(i); }
  // Frame i as the readers read it (waiting for it when they are reading it or will reach it), or its read error.
  void load(size_t i, EncodedFrame& frame) const override;
  void prefetch(size_t i) const override {}  // the readers are the read-ahead
  void set_read_method(io::ReadMethod m) const override { base_.set_read_method(m); }
  io::ReadMethod read_method() const override { return base_.read_method(); }
  size_t max_frame_bytes() const override { return base_.max_frame_bytes(); }
  std::vector<std::filesystem::path> files() const override { return base_.files(); }
  bool acquire(size_t i) const override { return base_.acquire(i); }
  bool dropped(size_t i) const override { return base_.dropped(i); }
  std::chrono::steady_clock::time_point release_time(size_t i) const override { return base_.release_time(i); }

  int readers() const { return static_cast<int>(threads_.size()); }
  size_t depth() const { return depth_; }
  // Counters for tests and notes: frames handed over from the ring, frames consumers read themselves.
  size_t from_ring() const;
  size_t read_by_consumer() const;

 private:
  enum class State : uint8_t { pending, reading, ready, taken };
  struct Slot {
    std::unique_ptr<EncodedFrame> frame;
    std::exception_ptr error;
  };
  // A consumer waiting in load() for frame `frame`: woken alone when that frame is ready (no thundering herd of every
  // waiting consumer per frame: on a VM each needless wake-up of an idle core is an interrupt the host must deliver),
  // and all together only when the readers can no longer reach their frames (the ring is full) or stop.
  struct Waiter {
    size_t frame;
    std::condition_variable cv;
  };
  void reader();
  void wake(size_t frame) const;  // under mu_: the consumers waiting for `frame`
  void wake_all() const;          // under mu_: every waiting consumer

  const FrameSource& base_;
  size_t depth_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_readers_;                // readers waiting for a free buffer
  mutable std::vector<Waiter*> waiters_;                      // consumers waiting in load()
  mutable std::vector<State> state_;                          // per frame
  mutable std::vector<Slot> ready_;                           // per frame: its buffer while ready
  mutable std::vector<std::unique_ptr<EncodedFrame>> free_;   // buffers not holding a ready frame
  mutable size_t cursor_ = 0;                                 // the next frame the readers may claim
  mutable size_t from_ring_ = 0, by_consumer_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace xrd::frames
