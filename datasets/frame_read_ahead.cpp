// Read-ahead over a frame source (frame_read_ahead.hpp).
#include "datasets/frame_read_ahead.hpp"

#include <algorithm>
#include <utility>

#include "base/error.hpp"

namespace xrd::frames {

ReadAheadSource::ReadAheadSource(const FrameSource& base, int readers, size_t depth)
    : base_(base),
      depth_(depth > 0 ? depth : 2 * static_cast<size_t>(std::max(readers, 1))),
      state_(base.size(), State::pending),
      ready_(base.size()) {
  if (readers < 1) throw Error("", "--read-ahead", "read-ahead needs at least 1 reader thread, not " + std::to_string(readers));
  for (size_t k = 0; k < depth_; ++k) free_.push_back(std::make_unique<EncodedFrame>());
  // More readers than frames: the extra ones would only wait; none is started for them.
  const size_t n = std::min<size_t>(static_cast<size_t>(readers), std::max<size_t>(base.size(), 1));
  threads_.reserve(n);
  try {
    for (size_t k = 0; k < n; ++k) threads_.emplace_back([this] { reader(); });
  } catch (...) {
    stop();
    throw;
  }
}

ReadAheadSource::~ReadAheadSource() { stop(); }

void ReadAheadSource::stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    wake_all();  // consumers waiting for frames the readers will not read now read them themselves
  }
  cv_readers_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void ReadAheadSource::wake(size_t frame) const {
  for (Waiter* w : waiters_)
    if (w->frame == frame) w->cv.notify_one();
}

void ReadAheadSource::wake_all() const {
  for (Waiter* w : waiters_) w->cv.notify_one();
}

void ReadAheadSource::reader() {
  const size_t n = state_.size();
  for (;;) {
    std::unique_ptr<EncodedFrame> buf;
    size_t i = 0;
    {
      std::unique_lock<std::mutex> l(mu_);
      for (;;) {
        while (cursor_ < n && state_[cursor_] != State::pending) ++cursor_;  // skip frames consumers read themselves
        if (stop_ || cursor_ >= n) return;
        if (!free_.empty()) break;
        cv_readers_.wait(l);  // the ring is full: wait for a consumer to take a frame
      }
      i = cursor_++;
      state_[i] = State::reading;
      buf = std::move(free_.back());
      free_.pop_back();
      // The ring is full now: consumers waiting for a frame the readers have not claimed re-check (they read it
      // themselves rather than wait for a buffer that may come back only after their own frame).
      if (free_.empty()) wake_all();
    }
    std::exception_ptr err;
    try {
      base_.load(i, *buf);
    } catch (...) {
      err = std::current_exception();  // kept for this frame only: its consumer gets it
    }
    std::lock_guard<std::mutex> l(mu_);
    ready_[i].frame = std::move(buf);
    ready_[i].error = err;
    state_[i] = State::ready;
    wake(i);
  }
}

void ReadAheadSource::load(size_t i, EncodedFrame& frame) const {
  if (i >= state_.size()) {
    base_.load(i, frame);  // the base source says what is wrong with the index
    return;
  }
  std::unique_lock<std::mutex> l(mu_);
  Waiter me{i, {}};
  bool waiting = false;  // `me` is in waiters_
  auto leave = [&] {
    if (waiting) waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &me));
    waiting = false;
  };
  for (;;) {
    const State s = state_[i];
    if (s == State::ready) break;
    // Taken already (asked twice), or not claimed while the readers cannot reach it (stopped, or the ring is full of
    // frames nobody has taken yet): this consumer reads it, and the readers skip it.
    if (s == State::taken || (s == State::pending && (stop_ || free_.empty() || threads_.empty()))) {
      leave();
      state_[i] = State::taken;
      ++by_consumer_;
      l.unlock();
      base_.load(i, frame);
      return;
    }
    if (!waiting) {
      waiters_.push_back(&me);
      waiting = true;
    }
    me.cv.wait(l);  // being read, or the readers will reach it
  }
  leave();
  Slot& slot = ready_[i];
  std::swap(frame, *slot.frame);  // the bytes move to the consumer; its old buffer goes back to the ring
  std::exception_ptr err = std::move(slot.error);
  slot.error = nullptr;
  free_.push_back(std::move(slot.frame));
  state_[i] = State::taken;
  ++from_ring_;
  l.unlock();
  cv_readers_.notify_one();  // a reader waiting for a free buffer
  if (err) std::rethrow_exception(err);
}

size_t ReadAheadSource::from_ring() const {
  std::lock_guard<std::mutex> l(mu_);
  return from_ring_;
}

size_t ReadAheadSource::read_by_consumer() const {
  std::lock_guard<std::mutex> l(mu_);
  return by_consumer_;
}

}  // namespace xrd::frames
