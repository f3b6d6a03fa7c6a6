// opencl-batched: our device design. N reader threads each read + parse a file and copy its compressed payload
// straight into the open batch's pinned staging memory (the copies run in parallel; only the claim of a region is
// serialized); the main thread only opens batches, submits a full one, and keeps `depth` batches in flight on the
// device (upload, decode, integrate, patterns down) while the readers fill the next: host and device overlap, launches
// are amortized over the batch, and no thread copies every frame. Under a paced source (`xrdbench realtime`) a batch
// does not wait for frames the detector has not released: opt.flush_ms after its first frame it goes partial.
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "kernels/error.hpp"
#include "kernels/ocl_engine.hpp"
#include "strategies/reader_pool.hpp"

namespace xrd::strat {
namespace {

class OpenClBatched : public Strategy {
 public:
  void prepare(RunContext& ctx) override {
    if (ctx.opt.readers < 1) ctx.opt.readers = 2;
    if (ctx.opt.batch < 1) ctx.opt.batch = 16;
    max_bytes_ = ctx.source->max_frame_bytes();
    engine_ = std::make_unique<ocl::Engine>(require_device(ctx, "opencl-batched"), *ctx.setup, max_bytes_,
                                            ctx.opt.batch);
    buffers_.resize(static_cast<size_t>(ctx.opt.readers));
  }

  void run(RunContext& ctx) override {
    if (ctx.profiler) {
      ctx.profiler->set_thread_name(0, "main (batches + device)");
      for (int r = 1; r <= ctx.opt.readers; ++r)
        ctx.profiler->set_thread_name(r, "reader " + std::to_string(r));
    }
    next_.store(0);
    running_ = ctx.opt.readers;
    open_ = nullptr;
    failed_.clear();
    std::vector<std::thread> readers;
    for (int r = 1; r <= ctx.opt.readers; ++r) readers.emplace_back([this, &ctx, r] { reader(ctx, r); });
    try {
      drive(ctx);
    } catch (...) {
      {
        std::lock_guard<std::mutex> l(mu_);
        abort_ = true;
      }
      cv_readers_.notify_all();
      for (auto& t : readers) t.join();
      abort_ = false;
      while (engine_->in_flight() > 0) engine_->complete(result_);
      throw;
    }
    for (auto& t : readers) t.join();
  }

 private:
  // A reader: claim the next frame, read + parse it, copy its payload into the open batch.
  void reader(const RunContext& ctx, int thread) {
    FrameBuffer& fb = buffers_[static_cast<size_t>(thread - 1)];
    const size_t n = ctx.frames(), pixels = ctx.setup->csr.pixels();
    for (;;) {
      const size_t i = next_.fetch_add(1);
      if (i >= n || ctx.stopped()) break;
      try {
        load_frame(ctx, i, thread, fb);
        require_device_codec(fb);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> l(mu_);
        failed_.emplace_back(i, failure_reason(e));
        cv_main_.notify_one();
        continue;
      }
      const auto& payload = fb.payload;
      std::span<uint8_t> dst;
      {
        const double t = ctx.now();
        std::unique_lock<std::mutex> l(mu_);
        for (;;) {
          cv_readers_.wait(l, [&] { return abort_ || (open_ && !full_); });
          if (abort_) return;
          if (open_->size() < open_->capacity() && open_->bytes_left() >= payload.size()) break;
          if (open_->size() == 0) break;  // not even an empty batch has room: claim() says why
          full_ = true;  // no room for this frame: the main thread submits the batch and opens the next
          cv_main_.notify_one();
        }
        try {
          dst = open_->claim(0, payload.size(), pixels, fb.element, fb.origin, i);
        } catch (const std::exception& e) {
          failed_.emplace_back(i, failure_reason(e));
          continue;
        }
        if (claimed_ == 0) {
          first_claim_ = std::chrono::steady_clock::now();  // the batch's flush timeout counts from here
          cv_main_.notify_one();
        }
        ++claimed_;
        if (open_->size() == open_->capacity()) {
          full_ = true;
          cv_main_.notify_one();
        }
        ctx.add(Stage::wait, t, i, thread);
      }
      const double t = ctx.now();
      std::memcpy(dst.data(), payload.data(), payload.size());
      ctx.add(Stage::read, t, i, thread);  // the copy into pinned memory: part of getting the bytes to the device
      std::lock_guard<std::mutex> l(mu_);
      ++filled_;
      if (filled_ == claimed_) cv_main_.notify_one();
    }
    std::lock_guard<std::mutex> l(mu_);
    --running_;
    cv_main_.notify_one();
  }

  // The main thread: open a batch, wait until it is full (or the readers are done), submit, complete the oldest.
  void drive(const RunContext& ctx) {
    InOrder out(ctx, 0);
    auto finish_one = [&] {
      const double t = ctx.now();
      engine_->complete(result_);
      ctx.add(Stage::integrate, t, result_.size() ? result_.frames[0].tag : 0, 0);  // device time, as seen by the host
      for (size_t k = 0; k < result_.size(); ++k) {
        ocl::FrameResult& r = result_.frames[k];
        if (r.error)
          out.error(r.tag, failure_reason(*r.error));
        else
          out.pattern(r.tag, r.pattern);
      }
    };
    std::vector<std::pair<size_t, std::string>> failed;
    for (;;) {
      if (engine_->in_flight() == engine_->depth()) finish_one();
      ocl::Staging* s = &engine_->staging();
      bool done = false;
      {
        const double t = ctx.now();
        std::unique_lock<std::mutex> l(mu_);
        open_ = s;
        claimed_ = filled_ = 0;
        full_ = false;
        cv_readers_.notify_all();
        // A full batch goes at once; with a flush timeout (paced runs) a partial one goes flush_ms after its
        // first frame, so that no frame waits for frames the detector has not released yet.
        const bool flush = ctx.opt.flush_ms >= 0;
        const auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double, std::milli>(flush ? ctx.opt.flush_ms : 0.0));
        for (;;) {
          const bool due = flush && claimed_ > 0 && std::chrono::steady_clock::now() >= first_claim_ + timeout;
          if ((full_ || running_ == 0 || due) && filled_ == claimed_) break;
          if (flush && claimed_ > 0 && !due)
            cv_main_.wait_until(l, first_claim_ + timeout);
          else
            cv_main_.wait(l);
        }
        done = running_ == 0;
        open_ = nullptr;
        failed.swap(failed_);
        ctx.add(Stage::wait, t, 0, 0);
      }
      for (auto& [i, why] : failed) out.error(i, std::move(why));
      failed.clear();
      if (s->size() > 0) engine_->submit(*s);
      if (done) break;
    }
    while (engine_->in_flight() > 0) finish_one();
  }

  std::unique_ptr<ocl::Engine> engine_;
  ocl::BatchResult result_;
  size_t max_bytes_ = 0;
  std::vector<FrameBuffer> buffers_;  // one per reader
  std::atomic<size_t> next_{0};
  // Shared by the readers and the main thread, under mu_.
  std::mutex mu_;
  std::condition_variable cv_readers_, cv_main_;
  ocl::Staging* open_ = nullptr;  // the batch being filled (null between batches)
  int claimed_ = 0, filled_ = 0;  // regions of the open batch claimed, and copied
  bool full_ = false;             // the open batch takes no more frames
  std::chrono::steady_clock::time_point first_claim_;  // when the open batch got its first frame
  bool abort_ = false;            // the main thread failed: readers leave
  int running_ = 0;               // readers still working
  std::vector<std::pair<size_t, std::string>> failed_;  // frames that failed in a reader
};

}  // namespace

std::unique_ptr<Strategy> make_opencl_batched() { return std::make_unique<OpenClBatched>(); }

}  // namespace xrd::strat
