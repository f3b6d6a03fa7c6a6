// Frame sinks: where a run's patterns go. Each is one strategies::FrameSink doing one thing; a FanOut composes the
// ones a run asks for (the runner: Tally + Keep for validation + H5File unless --no-write; the reference run: Tally +
// Keep; `integrate`: a file sink). A sink that writes never throws into a strategy's threads: a failed write is kept
// (write_error) and the run goes on without writing.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
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
  // Creates the parent folder (throws xrd::Error naming it when it cannot).
  H5File(std::filesystem::path path, h5::NxLayout layout);
  const std::filesystem::path& path() const { return path_; }
  void open();   // creates the file (throws on failure); clears write_error
  void close();  // closes it, reporting errors (throws)
  // Closes without reporting errors and removes the file; true when a file was removed.
  bool discard();
  void pattern(size_t frame, const integration::Pattern& p) override;
  void error(size_t, const std::string&, const std::string&) override {}

  std::string write_error;

 private:
  std::filesystem::path path_;
  h5::NxLayout layout_;
  std::unique_ptr<h5::NxWriter> writer_;
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
