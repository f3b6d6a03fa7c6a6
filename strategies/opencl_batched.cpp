// opencl-batched: our device design. N reader threads (default: every core but two) each read a file's header, claim
// a region of the open batch's pinned staging memory and read the compressed payload straight into it with one
// pread() (no intermediate buffer, no second copy; the reads run in parallel, only the claim of a region is
// serialized); the main thread only opens batches, submits a full one, and keeps `depth` batches in flight on the
// device (upload, decode, integrate, patterns down) while the readers fill the next: host and device overlap, launches
// are amortized over the batch, and no thread copies every frame. With `--device opencl:all` (ctx.extra_devices) there
// is one engine per device and the batches go to them in turn, completed in submission order. Under a paced source
// (`xrdbench realtime`) a batch does not wait for frames the detector has not released: opt.flush_ms after its first
// frame it goes partial.
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "kernels/error.hpp"
#include "kernels/ocl_engine.hpp"
#include "strategies/reader_pool.hpp"

namespace xrd::strategies {
namespace {

class OpenClBatched : public Strategy {
 public:
  void prepare(RunContext& ctx) override {
    if (ctx.opt.readers < 1) ctx.opt.readers = default_readers();
    if (ctx.opt.batch < 1) ctx.opt.batch = 16;
    max_bytes_ = ctx.source->max_frame_bytes();
    engines_.clear();
    engines_.push_back(std::make_unique<ocl::Engine>(require_device(ctx, "opencl-batched"), *ctx.setup, max_bytes_,
                                                     ctx.opt.batch));
    for (ocl::DeviceContext* d : ctx.extra_devices)
      engines_.push_back(std::make_unique<ocl::Engine>(*d, *ctx.setup, max_bytes_, ctx.opt.batch));
    buffers_.resize(static_cast<size_t>(ctx.opt.readers));
    std::string devices;  // decoded and integrated on the device(s)
    for (const auto& e : engines_) devices += (devices.empty() ? "" : ", ") + e->context().name();
    kernels_ = {"opencl", "opencl", devices};
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
    spoiled_.clear();
    std::vector<std::thread> readers;
    try {
      for (int r = 1; r <= ctx.opt.readers; ++r) readers.emplace_back([this, &ctx, r] { reader(ctx, r); });
    } catch (const std::system_error& e) {
      // Out of threads (a process limit, RLIMIT_NPROC): stop the readers already started, then fail the run with
      // the reason (the row is marked invalid) instead of leaving joinable threads behind (std::terminate).
      {
        std::lock_guard<std::mutex> l(mu_);
        abort_ = true;
      }
      cv_readers_.notify_all();
      const size_t started = readers.size();
      for (auto& t : readers) t.join();
      abort_ = false;
      throw Error("", "--readers",
                  "cannot start reader thread " + std::to_string(started + 1) + " of " +
                      std::to_string(ctx.opt.readers) + ": " + e.what() + " (a process or thread limit?)");
    }
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
      for (auto& e : engines_)
        while (e->in_flight() > 0) e->complete(result_);
      order_.clear();
      throw;
    }
    for (auto& t : readers) t.join();
  }

 private:
  struct Aborted {};  // the main thread failed: the reader leaves

  // Claims room for one payload in the open batch (waiting for one with room), under mu_. Throws Aborted.
  std::span<uint8_t> claim_room(const RunContext& ctx, const FrameBuffer& fb, size_t bytes, int thread) {
    const double t = ctx.now();
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_readers_.wait(l, [&] { return abort_ || (open_ && !full_); });
      if (abort_) throw Aborted{};
      if (open_->size() < open_->capacity() && open_->bytes_left() >= bytes) break;
      if (open_->size() == 0) break;  // not even an empty batch has room: claim() says why
      full_ = true;  // no room for this frame: the main thread submits the batch and opens the next
      cv_main_.notify_one();
    }
    const std::span<uint8_t> dst = open_->claim(0, bytes, ctx.setup->csr.pixels(), fb.element, fb.origin, fb.index);
    if (claimed_ == 0) {
      first_claim_ = std::chrono::steady_clock::now();  // the batch's flush timeout counts from here
      cv_main_.notify_one();
    }
    ++claimed_;
    if (open_->size() == open_->capacity()) {
      full_ = true;
      cv_main_.notify_one();
    }
    ctx.add(Stage::wait, t, fb.index, thread);
    return dst;
  }

  // A reader: claim the next frame and read its payload straight into the open batch's pinned memory (the source's
  // load_into: for CBF files the header first, then one pread() of the payload into the claimed region). With
  // --verify-md5 the frame is read and checked in the reader's own buffer first, then copied.
  void reader(const RunContext& ctx, int thread) {
    FrameBuffer& fb = buffers_[static_cast<size_t>(thread - 1)];
    const size_t n = ctx.frames();
    for (;;) {
      const size_t i = next_.fetch_add(1);
      if (i >= n || ctx.stopped()) break;
      bool claimed = false;
      try {
        if (!ctx.opt.verify_md5) acquire_frame(ctx, i);  // (load_frame() does it on the other path)
        const double t = ctx.now();
        double t_wait = 0;
        if (ctx.opt.verify_md5) {
          load_frame(ctx, i, thread, fb);
          require_device_codec(fb);
          const std::span<uint8_t> dst = claim_room(ctx, fb, fb.payload.size(), thread);
          claimed = true;
          const double tc = ctx.now();
          std::memcpy(dst.data(), fb.payload.data(), fb.payload.size());
          ctx.add(Stage::read, tc, i, thread);  // the copy into pinned memory
        } else {
          ctx.source->load_into(i, fb, [&](const FrameBuffer& meta, size_t bytes) {
            check_shape(ctx, meta);
            require_device_codec(meta);
            const double tw = ctx.now();
            const std::span<uint8_t> dst = claim_room(ctx, meta, bytes, thread);
            t_wait += ctx.now() - tw;
            claimed = true;
            return dst;
          });
          // Reading time, without the wait for a batch with room (timed as Stage::wait inside claim_room).
          if (ctx.profiler) ctx.profiler->add(Stage::read, t + t_wait, ctx.now(), i, thread);
        }
      } catch (const Aborted&) {
        return;
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> l(mu_);
        failed_.emplace_back(i, failure_reason(e));
        if (claimed) {  // its region holds no payload: the device's result for it is dropped
          spoiled_.insert(i);
          ++filled_;
        }
        cv_main_.notify_one();
        continue;
      }
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
    order_.clear();
    size_t turn = 0;  // the engine that takes the next batch
    auto finish_one = [&] {  // the oldest batch in flight, whichever engine runs it
      const double t = ctx.now();
      ocl::Engine& e = *engines_[order_.front()];
      order_.pop_front();
      e.complete(result_);
      ctx.add(Stage::integrate, t, result_.size() ? result_.frames[0].tag : 0, 0);  // device time, as seen by the host
      for (size_t k = 0; k < result_.size(); ++k) {
        ocl::FrameResult& r = result_.frames[k];
        if (is_spoiled(r.tag)) continue;  // reported by its reader already
        if (r.error)
          out.error(r.tag, failure_reason(*r.error));
        else
          out.pattern(r.tag, r.pattern);
      }
    };
    std::vector<std::pair<size_t, std::string>> failed;
    for (;;) {
      ocl::Engine& engine = *engines_[turn];
      while (engine.in_flight() == engine.depth()) finish_one();
      ocl::Staging* s = &engine.staging();
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
      if (s->size() > 0) {
        engine.submit(*s);
        order_.push_back(turn);
        turn = (turn + 1) % engines_.size();
      }
      if (done) break;
    }
    while (!order_.empty()) finish_one();
  }

  std::vector<std::unique_ptr<ocl::Engine>> engines_;  // one per device; [0] on ctx.device
  std::deque<size_t> order_;                           // engines of the batches in flight, oldest first
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
  std::set<size_t> spoiled_;  // frames that failed after their region was claimed (their device result is dropped)

  bool is_spoiled(size_t frame) {
    std::lock_guard<std::mutex> l(mu_);
    return spoiled_.erase(frame) > 0;
  }
};

}  // namespace

std::unique_ptr<Strategy> make_opencl_batched() { return std::make_unique<OpenClBatched>(); }

}  // namespace xrd::strategies
