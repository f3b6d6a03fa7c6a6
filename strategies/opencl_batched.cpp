// opencl-batched: our device design. N reader threads (default: every core but two) each read a file's header, claim
// a region of the open batch's pinned staging memory and read the compressed payload straight into it with one
// read of the --read-method (no intermediate buffer, no second copy; the reads run in parallel, only the claim of a
// region is serialized); the main thread only opens batches, submits a full one, and keeps `depth` batches in flight
// on the device (upload, decode, integrate, patterns down) while the readers fill the next: host and device overlap,
// launches are amortized over the batch, and no thread copies every frame. Two engines share the one device by
// default, so that two batches are open at once: when one is full the readers claim in the next at once instead of
// waiting for the slowest reader of the full one. With `--device opencl:all` (ctx.extra_devices) there
// is one engine per device and the batches go to them in turn, completed in submission order. Under a paced source
// (`xrdbench realtime`) a batch does not wait for frames the detector has not released: opt.flush_ms after its first
// frame it goes partial. Bitshuffle-LZ4 frames (NXmx) go the same way: the reader reads the frame's chunk as stored
// (H5Dread_chunk) into the claimed region, the device decodes it (kernels/bslz4.cl) into the frame's image slot and
// integrates it in place; a bad chunk fails its frame only.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include "base/error.hpp"
#include "kernels/ocl_engine.hpp"
#include "strategies/reader_pool.hpp"
#include "strategies/steps.hpp"

namespace xrd::strategies {
namespace {

// Cold rows: how many frames ahead of the one claimed the readers ask the disk for (Options::cold).
constexpr size_t kPrefetchAhead = 24;
// Whole-file reads: where a file's room starts in the pinned staging (O_DIRECT wants the logical block size; the
// room also holds the block's slack, io::FileReader::room_for_all).
constexpr size_t kFileAlign = 4096;

// The device decoder of a frame's codec (throws, naming the frame, for a codec the device cannot decode).
ocl::Payload device_payload(const FrameBuffer& fb) {
  if (fb.codec == frames::Codec::bitshuffle_lz4) return ocl::Payload::bslz4;
  require_device_codec(fb);
  return ocl::Payload::byte_offset;
}

class OpenClBatched : public Strategy {
 public:
  void prepare(RunContext& ctx) override {
    if (ctx.opt.readers < 1) ctx.opt.readers = ctx.opt.cold ? kColdDeviceReaders : default_readers();
    if (ctx.opt.batch < 1) ctx.opt.batch = kDefaultDeviceBatch;
    // --read-method direct: each reader reads a frame's whole file with one O_DIRECT request per 4 MiB straight
    // into the pinned staging (an aligned address; header and payload together), so that the disk sees what its
    // bound measures; other methods read the header, then the payload into the claimed region.
    whole_file_ = ctx.source->read_method() == io::ReadMethod::direct && !ctx.opt.verify_md5;
    // XRD_DEBUG_READ_VIA_BUFFER=1 (measurement only): each reader reads the whole file into its own buffer (direct:
    // in place, as the disk's bound reads), then copies the payload into the pinned staging: says whether pinned
    // memory as the target of the reads is what keeps the cold row below the bound.
    const char* vb = std::getenv("XRD_DEBUG_READ_VIA_BUFFER");
    via_buffer_ = vb && *vb && std::string(vb) != "0";
    max_bytes_ = ctx.source->max_frame_bytes() + (whole_file_ ? 3 * kFileAlign : 0);  // room_for_all + the address's alignment
    engines_.clear();
    ocl::EngineOptions eo;
    eo.depth = ctx.opt.in_flight >= 2 ? ctx.opt.in_flight : kInFlight;
    ocl::DeviceContext& device = require_device(ctx, "opencl-batched");
    engines_.push_back(std::make_unique<ocl::Engine>(device, *ctx.setup, max_bytes_, ctx.opt.batch, eo));
    for (ocl::DeviceContext* d : ctx.extra_devices)
      engines_.push_back(std::make_unique<ocl::Engine>(*d, *ctx.setup, max_bytes_, ctx.opt.batch, eo));
    // One device: a second engine on it (its own staging slots, the same queues), so that the readers fill the next
    // batch while the last frames of the previous one are still being read (an engine fills one batch at a time).
    const int per_device = ctx.opt.engines_per_device > 0 ? ctx.opt.engines_per_device : kEnginesPerDevice;
    if (ctx.extra_devices.empty())
      for (int k = 1; k < per_device; ++k)
        engines_.push_back(std::make_unique<ocl::Engine>(device, *ctx.setup, max_bytes_, ctx.opt.batch, eo));
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
    batch_ = nullptr;
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

  // Pinned staging slots per engine when --sweep-in-flight does not say: batches on the device plus the one the
  // readers fill. Measured on the H200 (reports/results/h200/readers/): 2 beats 3 (15,063 vs 13,292 frames/s with
  // two engines, 10,712 vs 9,626 with one): more pinned memory in flight costs more than it overlaps.
  static constexpr int kInFlight = 2;
  static constexpr int kEnginesPerDevice = 2;

  // A batch being filled: its staging and how many regions were claimed in it and filled. With two engines two
  // batches are open at once: the one taking claims (batch_) and the one whose last regions are still being read.
  struct Batch {
    ocl::Staging* s = nullptr;
    size_t engine = 0;  // the engine whose staging it is
    int claimed = 0, filled = 0;
    bool full = false;                                   // takes no more frames
    std::chrono::steady_clock::time_point first_claim;  // when it got its first frame (the flush timeout)
  };

  // Claims room for one payload in the open batch (waiting for one with room), under mu_; `into` gets the batch.
  // whole_file: the room is for the frame's whole file, its payload described after the read (Staging::claim_file;
  // *k gets the frame's number in the batch). Throws Aborted.
  std::span<uint8_t> claim_room(const RunContext& ctx, const FrameBuffer& fb, size_t bytes, int thread, Batch*& into,
                                int* k = nullptr) {
    const double t = ctx.now();
    const size_t need = k ? bytes + kFileAlign : bytes;  // a file's room may start up to an alignment later
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_readers_.wait(l, [&] { return abort_ || (open_ && !batch_->full); });
      if (abort_) throw Aborted{};
      if (open_->size() < open_->capacity() && open_->bytes_left() >= need) break;
      if (open_->size() == 0) break;  // not even an empty batch has room: claim() says why
      batch_->full = true;  // no room for this frame: the main thread seals the batch and opens the next
      cv_main_.notify_one();
    }
    std::span<uint8_t> dst;
    if (k) {
      auto [n, room] = open_->claim_file(bytes, kFileAlign, ctx.setup->csr.pixels(), fb.origin, fb.index);
      *k = n;
      dst = room;
    } else {
      dst = open_->claim(0, bytes, ctx.setup->csr.pixels(), fb.element, fb.origin, fb.index, device_payload(fb),
                         fb.payload_offset);
    }
    into = batch_;
    if (batch_->claimed == 0) {
      batch_->first_claim = std::chrono::steady_clock::now();  // the batch's flush timeout counts from here
      cv_main_.notify_one();
    }
    ++batch_->claimed;
    if (open_->size() == open_->capacity()) {
      batch_->full = true;
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
      // Cold: the file kPrefetchAhead frames on is asked of the disk now (the first readers start it for the first
      // ones), so the disk works on ~kPrefetchAhead requests while each reader waits for its own.
      if (ctx.opt.cold) {
        const size_t readers = static_cast<size_t>(std::max(1, ctx.opt.readers));
        if (i < readers)
          for (size_t k = i + readers; k < kPrefetchAhead; k += readers) prefetch(ctx, k);
        prefetch(ctx, i + kPrefetchAhead);
      }
      bool claimed = false;
      Batch* into = nullptr;  // the batch its region is in
      int k = -1;                   // whole-file reads: the frame's number in its batch
      const uint8_t* room = nullptr;  // and where its file was read
      ocl::Payload codec = ocl::Payload::byte_offset;
      try {
        if (!ctx.opt.verify_md5 && !via_buffer_) acquire_frame(ctx, i);  // (load_frame() does it on the other path)
        const double t = ctx.now();
        double t_wait = 0;
        if (ctx.opt.verify_md5 || via_buffer_) {
          load_frame(ctx, i, thread, fb);
          device_payload(fb);
          const std::span<uint8_t> dst = claim_room(ctx, fb, fb.payload.size(), thread, into);
          claimed = true;
          const double tc = ctx.now();
          std::memcpy(dst.data(), fb.payload.data(), fb.payload.size());
          ctx.add(Stage::read, tc, i, thread);  // the copy into pinned memory
        } else if (whole_file_ && ctx.source->load_file_into(i, fb, [&](size_t bytes) {
                     const double tw = ctx.now();
                     const std::span<uint8_t> dst = claim_room(ctx, fb, bytes, thread, into, &k);
                     t_wait += ctx.now() - tw;
                     claimed = true;
                     room = dst.data();
                     return dst;
                   })) {
          // The whole file is in the claimed memory, parsed: the payload and what it is go to the batch with the
          // count of filled regions below.
          check_shape(ctx, fb);
          codec = device_payload(fb);
          if (ctx.profiler) ctx.profiler->add(Stage::read, t + t_wait, ctx.now(), i, thread);
        } else {
          ctx.source->load_into(i, fb, [&](const FrameBuffer& meta, size_t bytes) {
            check_shape(ctx, meta);
            device_payload(meta);
            const double tw = ctx.now();
            const std::span<uint8_t> dst = claim_room(ctx, meta, bytes, thread, into);
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
          ++into->filled;
        }
        cv_main_.notify_one();
        continue;
      }
      std::lock_guard<std::mutex> l(mu_);
      if (k >= 0) {
        try {
          into->s->describe(k, static_cast<size_t>(fb.payload.data() - room), fb.payload.size(), fb.element, codec,
                            fb.payload_offset);
        } catch (const std::exception& e) {
          failed_.emplace_back(i, failure_reason(e));
          spoiled_.insert(i);
        }
      }
      if (++into->filled == into->claimed) cv_main_.notify_one();
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
    Batch* batches = batches_;
    int cur_k = 0;  // batches[cur_k] takes claims; with two engines the other may still be filling its last regions
    // Opens the next batch on engine `turn` (a free staging slot: completes the oldest batch when none is free).
    auto open_next = [&](Batch& b) {
      ocl::Engine& engine = *engines_[turn];
      while (engine.in_flight() == engine.depth()) finish_one();
      b = Batch{};
      b.s = &engine.staging();
      b.engine = turn;
      turn = (turn + 1) % engines_.size();
      std::lock_guard<std::mutex> l(mu_);
      open_ = b.s;
      batch_ = &b;
      cv_readers_.notify_all();
    };
    // Submits a sealed batch once its last region is filled.
    auto submit = [&](Batch& b) {
      {
        const double t = ctx.now();
        std::unique_lock<std::mutex> l(mu_);
        cv_main_.wait(l, [&] { return b.filled == b.claimed; });
        failed.swap(failed_);
        ctx.add(Stage::wait, t, 0, 0);
      }
      for (auto& [i, why] : failed) out.error(i, std::move(why));
      failed.clear();
      if (b.s->size() > 0) {
        engines_[b.engine]->submit(*b.s);
        order_.push_back(b.engine);
      }
    };
    const bool overlap = engines_.size() >= 2;  // each engine fills one batch at a time
    open_next(batches[cur_k]);
    for (;;) {
      Batch& cur = batches[cur_k];
      bool done = false;
      {
        const double t = ctx.now();
        std::unique_lock<std::mutex> l(mu_);
        // A full batch goes at once; with a flush timeout (paced runs) a partial one goes flush_ms after its
        // first frame, so that no frame waits for frames the detector has not released yet.
        const bool flush = ctx.opt.flush_ms >= 0;
        const auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double, std::milli>(flush ? ctx.opt.flush_ms : 0.0));
        for (;;) {
          const bool due = flush && cur.claimed > 0 && std::chrono::steady_clock::now() >= cur.first_claim + timeout;
          if (cur.full || running_ == 0 || due) break;
          if (flush && cur.claimed > 0 && !due)
            cv_main_.wait_until(l, cur.first_claim + timeout);
          else
            cv_main_.wait(l);
        }
        done = running_ == 0;  // every reader left: every claim was filled
        cur.full = true;       // sealed: no more claims
        open_ = nullptr;
        batch_ = nullptr;
        ctx.add(Stage::wait, t, 0, 0);
      }
      if (done) {
        submit(cur);
        break;
      }
      if (overlap) {
        // The next batch takes claims on the next engine while this one's last regions are being read.
        open_next(batches[1 - cur_k]);
        submit(cur);
      } else {
        submit(cur);
        open_next(batches[1 - cur_k]);
      }
      cur_k = 1 - cur_k;
    }
    while (!order_.empty()) finish_one();
  }

  std::vector<std::unique_ptr<ocl::Engine>> engines_;  // one per device; [0] on ctx.device
  std::deque<size_t> order_;                           // engines of the batches in flight, oldest first
  ocl::BatchResult result_;
  size_t max_bytes_ = 0;
  bool whole_file_ = false;  // readers read whole files into the staging (load_file_into)
  bool via_buffer_ = false;  // XRD_DEBUG_READ_VIA_BUFFER: read into the reader's buffer, then copy
  std::vector<FrameBuffer> buffers_;  // one per reader
  std::atomic<size_t> next_{0};
  // Shared by the readers and the main thread, under mu_.
  std::mutex mu_;
  std::condition_variable cv_readers_, cv_main_;
  ocl::Staging* open_ = nullptr;  // the batch being filled (null between batches)
  Batch* batch_ = nullptr;        // the batch taking claims: open_'s counters (null between batches)
  Batch batches_[2];              // the batches being filled (members: a reader may finish one after drive() threw)
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
