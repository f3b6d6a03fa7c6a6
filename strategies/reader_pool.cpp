#include "strategies/reader_pool.hpp"

#include <system_error>

#include "base/error.hpp"

namespace xrd::strategies {

void ReaderPool::Queue::push(Slot* s) {
  {
    std::lock_guard<std::mutex> l(mu_);
    q_.push_back(s);
  }
  cv_.notify_one();
}

Slot* ReaderPool::Queue::pop() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return !q_.empty() || closed_; });
  if (q_.empty()) return nullptr;
  Slot* s = q_.front();
  q_.pop_front();
  return s;
}

void ReaderPool::Queue::close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

void ReaderPool::Queue::reset() {
  std::lock_guard<std::mutex> l(mu_);
  closed_ = false;
  q_.clear();
}

ReaderPool::~ReaderPool() { join(); }

void ReaderPool::start(const RunContext& ctx, int readers, size_t slots, bool decode) {
  join();
  if (slots < static_cast<size_t>(readers) + 1) slots = static_cast<size_t>(readers) + 1;
  while (slots_.size() < slots) slots_.push_back(std::make_unique<Slot>());
  free_.reset();
  ready_.reset();
  for (auto& s : slots_) free_.push(s.get());
  next_.store(0);
  running_.store(readers);
  for (int r = 1; r <= readers; ++r) {
    if (ctx.profiler) ctx.profiler->set_thread_name(r, "reader " + std::to_string(r));
    try {
      threads_.emplace_back([this, &ctx, r, decode] { reader(ctx, r, decode); });
    } catch (const std::system_error& e) {
      // Out of threads (a process limit): stop the ones started and fail the run with the reason.
      join();
      throw Error("", "--readers",
                  "cannot start reader thread " + std::to_string(r) + " of " + std::to_string(readers) + ": " +
                      e.what() + " (a process or thread limit?)");
    }
  }
}

// A reader takes a free slot *before* claiming the next index: every claimed frame has a slot, so a consumer that
// waits for frames in index order can never deadlock.
void ReaderPool::reader(const RunContext& ctx, int thread, bool decode) {
  const size_t n = ctx.frames();
  for (;;) {
    const double t = ctx.now();
    Slot* s = free_.pop();
    ctx.add(Stage::wait, t, 0, thread);
    if (!s) break;
    const size_t i = next_.fetch_add(1);
    if (i >= n || ctx.stopped()) {
      free_.push(s);
      break;
    }
    s->frame = i;
    s->error.clear();
    try {
      load_frame(ctx, i, thread, s->fb);
      if (decode) decode_frame(ctx, thread, s->fb, s->image);
    } catch (const std::exception& e) {
      s->error = failure_reason(e);
    }
    ready_.push(s);
  }
  if (running_.fetch_sub(1) == 1) ready_.close();
}

Slot* ReaderPool::next(const RunContext& ctx, int thread) {
  const double t = ctx.now();
  Slot* s = ready_.pop();
  ctx.add(Stage::wait, t, s ? s->frame : 0, thread);
  return s;
}

void ReaderPool::release(Slot* s) { free_.push(s); }

void ReaderPool::join() {
  if (threads_.empty()) return;
  next_.store(static_cast<size_t>(-1) / 2);  // no more claims
  free_.close();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void InOrder::pattern(size_t frame, integration::Pattern& p) {
  if (frame == next_) {
    deliver(ctx_, next_++, thread_, p);
    flush();
    return;
  }
  integration::Pattern& held = done_[frame];
  if (!spare_.empty()) {
    held = std::move(spare_.back());
    spare_.pop_back();
  }
  std::swap(held, p);
}

void InOrder::error(size_t frame, std::string reason) {
  if (frame == next_) {
    deliver_error(ctx_, next_++, thread_, reason);
    flush();
    return;
  }
  failed_.emplace(frame, std::move(reason));
}

void InOrder::flush() {
  for (;;) {
    if (auto it = done_.find(next_); it != done_.end()) {
      deliver(ctx_, next_++, thread_, it->second);
      spare_.push_back(std::move(it->second));
      done_.erase(it);
    } else if (auto ft = failed_.find(next_); ft != failed_.end()) {
      deliver_error(ctx_, next_++, thread_, ft->second);
      failed_.erase(ft);
    } else {
      return;
    }
  }
}

}  // namespace xrd::strategies
