// One self-erasing status line on stderr for long runs (rows done / total, current row, frames, fps, elapsed time and
// the ETA of the whole table), drawn only when stderr is a terminal and at most ~5 times a second; a no-op otherwise.
// Lines printed through note() go above it, so finished-row lines never run into it.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

namespace xrd::harness {

class Progress {
 public:
  // Active when `out` is a terminal (isatty), or when force is true (tests). rows_total may be 1 for one row.
  explicit Progress(size_t rows_total, FILE* out = stderr, bool force = false);
  ~Progress();  // clears the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool active() const { return active_; }

  // A new row (or one of its runs) starts: its label ("pool-4-gpu-MEM, run 2/5") and the frames it will process;
  // step/steps: which of the row's passes this is (warm-up + repeats), for the ETA of the whole table.
  void start_row(size_t rows_done, std::string label, size_t frames_total, size_t step = 0, size_t steps = 1);
  // Thread-safe and cheap: `n` more frames done in the current row. Redraws when the throttle allows.
  void add_frames(size_t n = 1);
  // Thread-safe: a message printed on its own line above the status line (which is then redrawn).
  void note(const std::string& msg);
  // Erase the line (also done by the destructor).
  void clear();

  // The text of the status line as it would be drawn now (for tests).
  std::string line() const;
  // The fraction of the whole table done (rows, passes of the current row, frames of the current pass), 0..1.
  double fraction_done() const;
  // "1:05" (under an hour) or "2:03:07".
  static std::string format_duration(double seconds);

 private:
  void draw_locked();
  std::string line_locked() const;
  double fraction_locked() const;
  using clock = std::chrono::steady_clock;
  FILE* out_;
  bool active_;
  size_t rows_total_;
  mutable std::mutex mu_;
  size_t rows_done_ = 0;
  std::string label_;
  size_t frames_total_ = 0;
  size_t step_ = 0, steps_ = 1;
  clock::time_point table_start_;
  std::atomic<size_t> frames_done_{0};
  std::atomic<int64_t> last_draw_ns_{0};
  clock::time_point row_start_;
  clock::time_point rate_t_;
  size_t rate_frames_ = 0;
  double fps_ = 0;
  bool drawn_ = false;
  size_t drawn_width_ = 0;
};

}  // namespace xrd::harness
