// Reader threads and in-order delivery for the strategies that read with several threads. ReaderPool (pool): N
// readers claim frame indices in order, read + parse (+ decode) each into a slot from a fixed set and queue it; the
// consumer takes slots as they arrive and returns them. InOrder (pool, opencl-batched): hands results to the sink
// in frame order whatever the arrival order.
#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "strategies/steps.hpp"


namespace xrd::strategies {

struct Slot {
  FrameBuffer fb;
  std::vector<int32_t> image;  // decoded pixels (when the readers decode)
  size_t frame = 0;
  std::string error;           // non-empty: the frame failed in its reader (the reason)
};

class ReaderPool {
 public:
  ~ReaderPool();
  // Starts `readers` threads (profiler thread indices 1..readers, named "reader i") over ctx.source's frames with `slots`
  // slots (>= readers + 1); decode: the readers also decode into slot.image.
  void start(const RunContext& ctx, int readers, size_t slots, bool decode);
  // The next slot ready, in arrival order (Stage::wait on `thread` while blocked); null once every claimed frame
  // was handed out and the readers are done (all frames, or stopped).
  Slot* next(const RunContext& ctx, int thread);
  void release(Slot* s);
  // Stops the readers (after their current frame) and joins them. Called by the destructor too.
  void join();

 private:
  class Queue {
   public:
    void push(Slot* s);
    Slot* pop();  // null once closed and empty
    void close();
    void reset();

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Slot*> q_;
    bool closed_ = false;
  };
  void reader(const RunContext& ctx, int thread, bool decode);

  std::vector<std::unique_ptr<Slot>> slots_;
  Queue free_, ready_;
  std::atomic<size_t> next_{0};
  std::atomic<int> running_{0};
  std::vector<std::thread> threads_;
};

// Hands patterns and errors to the sink in increasing frame order (Stage::write on `thread`), holding the ones that
// arrive early. pattern() swaps the content out of `p` (giving back a spare pattern): no copy.
class InOrder {
 public:
  InOrder(const RunContext& ctx, int thread) : ctx_(ctx), thread_(thread) {}
  void pattern(size_t frame, integration::Pattern& p);
  void error(size_t frame, std::string reason);
  size_t delivered() const { return next_; }

 private:
  void flush();
  const RunContext& ctx_;
  int thread_;
  size_t next_ = 0;
  std::map<size_t, integration::Pattern> done_;
  std::map<size_t, std::string> failed_;
  std::vector<integration::Pattern> spare_;
};

}  // namespace xrd::strategies
