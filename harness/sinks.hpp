// Frame sinks: where a run's patterns go. Each is one strategies::FrameSink doing one thing; a FanOut composes the
// ones a run asks for (the runner: Tally + Keep for validation + H5File unless --no-write; the reference run: Tally +
// Keep; `integrate`: a file sink). A sink that writes never throws into a strategy's threads: a failed write is kept
// (write_error) and the run goes on without writing.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/h5_writer.hpp"
#include "harness/progress.hpp"
#include "harness/results.hpp"
#include "harness/validate.hpp"
#include "strategies/strategy.hpp"

namespace xrd::harness {
struct Dataset;
}

namespace xrd::harness::sinks {

// Every frame to each part, in the order they were added.
class FanOut : public strategies::FrameSink {
 public:
  FanOut() = default;
  explicit FanOut(std::vector<strategies::FrameSink*> parts) : parts_(std::move(parts)) {}
  void add(strategies::FrameSink* part) { parts_.push_back(part); }
  void pattern(size_t frame, const integration::Pattern& p) override {
    for (auto* s : parts_) s->pattern(frame, p);
  }
  void error(size_t frame, const std::string& file, const std::string& reason) override {
    for (auto* s : parts_) s->error(frame, file, reason);
  }

 private:
  std::vector<strategies::FrameSink*> parts_;
};

// Counts a run: frames reduced (ok), failed (with the first kMaxListedErrors reasons, and which ones), and moves the
// progress line one frame per call.
class Tally : public strategies::FrameSink {
 public:
  explicit Tally(Progress* progress = nullptr) : progress_(progress) {}
  void reset(size_t frames);
  void pattern(size_t frame, const integration::Pattern& p) override;
  void error(size_t frame, const std::string& file, const std::string& reason) override;

  size_t ok = 0, failed = 0;
  std::vector<FrameError> errors;
  std::vector<uint8_t> failed_frames;  // 1 for each frame that went to error()

 private:
  Progress* progress_;
};

// Keeps every pattern in a PatternSet: what the validation against the reference compares.
class Keep : public strategies::FrameSink {
 public:
  explicit Keep(PatternSet& patterns) : patterns_(&patterns) {}
  void pattern(size_t frame, const integration::Pattern& p) override { patterns_->store(frame, p); }
  void error(size_t, const std::string&, const std::string&) override {}

 private:
  PatternSet* patterns_;
};

// Nothing kept, nothing written: a run measured for its speed alone.
class Discard : public strategies::FrameSink {
 public:
  void pattern(size_t, const integration::Pattern&) override {}
  void error(size_t, const std::string&, const std::string&) override {}
};

// The patterns in NeXus HDF5 (an XRD-CT sinogram when the layout has a scan; harness/h5_writer.hpp), rewritten by
// every open() .. close(). Failed frames stay invalid (NaN rows). A write that fails (disk full) is kept as
// write_error and the later frames are not written.
class H5File : public strategies::FrameSink {
 public:
  static constexpr int kWriteLane = 63;  // the profiler slot the runner times the file's creation and closing in
  // Patterns' bytes waiting for the writer thread at most (then pattern() waits): a whole run of a GPU row (1202
  // Pilatus frames x 1000 bins x 3 rows of doubles = 29 MB) fits, so the delivering thread never waits for a writer
  // that a loaded machine runs late; only a writer slower than the stream over a long run pushes back.
  static constexpr size_t kQueueBytes = size_t{256} << 20;
  // The writer thread is woken when this many patterns wait (a file chunk's frames: one HDF5 write per dataset for
  // them), or kMaxDelay after it last looked, whichever comes first: at GPU rates a wake-up per pattern costs the
  // delivering thread a futex call per frame and leaves the writer writing runs of one or two frames.
  static constexpr size_t kWriteRun = 32;
  static constexpr std::chrono::milliseconds kMaxDelay{20};
  // Creates the parent folder (throws xrd::Error naming it when it cannot).
  // queue_bytes: the queue's bound (kQueueBytes; tests make it small to exercise the waits).
  H5File(std::filesystem::path path, h5::NxLayout layout, size_t queue_bytes = kQueueBytes);
  ~H5File() override;
  const std::filesystem::path& path() const { return path_; }
  // Clears write_error and starts the writer thread, which creates the file (a failure to create it is kept and
  // reported by close() as write_error, as a failed write is).
  void open();
  void close();  // writes what is queued, closes the file, reporting errors (throws); write_error set if a write failed
  // Closes without reporting errors and removes the file; true when a file was removed.
  bool discard();
  // Write-behind: the pattern is copied into a bounded queue and written by the file's own thread, so that the
  // strategy's thread that delivers it (the device strategies' main thread) does not wait for HDF5. close() drains the
  // queue (the runner times it inside the row's wall time: every frame is on disk when a run ends).
  void pattern(size_t frame, const integration::Pattern& p) override;
  // A failed frame: its row stays NaN with valid 0; the writer counts it as settled, so that its file chunk is written
  // as soon as the chunk's other frames are there instead of at close().
  void error(size_t frame, const std::string&, const std::string&) override;

  std::string write_error;  // read after close() / discard()

  // What the last open() .. close() cost, for diagnostics (XRD_DEBUG_SINK=1 prints it at close()): the file's
  // creation, the delivering threads' waits for room in the queue, the writer thread's HDF5 writes, the wait in
  // close() for the queue to drain, and the file's closing.
  struct Stats {
    double open_ms = 0, put_wait_ms = 0, write_ms = 0, drain_ms = 0, close_ms = 0;
    size_t patterns = 0, max_queued = 0, wakes = 0;
    size_t chunks_settled = 0, chunks_at_close = 0;  // file chunks written once all their frames were settled / at close
  };
  Stats stats() const;

 private:
  void writer_loop();
  void stop_thread();
  std::filesystem::path path_;
  h5::NxLayout layout_;
  std::unique_ptr<h5::NxWriter> writer_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable cv_put_, cv_get_;
  struct Item {
    size_t frame = 0;
    bool failed = false;  // error(): the frame failed, no pattern
    integration::Pattern pattern;
  };
  std::deque<Item> queue_;
  std::vector<integration::Pattern> spare_;  // written patterns' buffers, reused
  size_t queue_bytes_, queued_bytes_ = 0;
  Stats stats_;
  bool closing_ = false;
  std::string async_error_;  // the writer thread's first error (under mutex_)
};

// One frame's pattern as text (integrate's .csv / .xy / .dat): `write` formats and writes it. A write that fails is
// kept as write_error; later frames are not written.
class TextFile : public strategies::FrameSink {
 public:
  explicit TextFile(std::function<void(const integration::Pattern&)> write) : write_(std::move(write)) {}
  void pattern(size_t frame, const integration::Pattern& p) override;
  void error(size_t, const std::string&, const std::string&) override {}

  std::string write_error;
  size_t written = 0;

 private:
  std::function<void(const integration::Pattern&)> write_;
};

// The sinks a run is composed of, from options: what the runner gives a row's strategy.
struct SinkOptions {
  PatternSet* keep = nullptr;                  // validation: every pattern kept here (null: not kept)
  std::unique_ptr<H5File> h5;                  // the HDF5 sinogram (null: not written)
  std::unique_ptr<TextFile> text;              // a text output (null: none)
  Progress* progress = nullptr;                // moved by the tally
};

class RunSinks {
 public:
  explicit RunSinks(SinkOptions o);
  strategies::FrameSink& sink() { return all_; }
  Tally& tally() { return tally_; }
  H5File* h5() { return h5_.get(); }
  TextFile* text() { return text_.get(); }
  // A new run: the tally cleared, write errors forgotten.
  void reset(size_t frames);
  // The first write error of the file sinks ("" when none).
  std::string write_error() const;

 private:
  Tally tally_;
  std::unique_ptr<Keep> keep_;
  std::unique_ptr<H5File> h5_;
  std::unique_ptr<TextFile> text_;
  Discard discard_;
  FanOut all_;
};

}  // namespace xrd::harness::sinks
