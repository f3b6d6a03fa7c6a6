// One self-erasing status line on stderr for long runs (rows done / total, current row, frames, fps), drawn only
// when stderr is a terminal and at most ~5 times a second; a no-op otherwise.
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

  // A new row starts: its label ("pool-4-gpu-MEM, run 2/5") and the frames it will process.
  void start_row(size_t rows_done, std::string label, size_t frames_total);
  // Thread-safe and cheap: `n` more frames done in the current row. Redraws when the throttle allows.
  void add_frames(size_t n = 1);
  // Thread-safe: a message printed on its own line above the status line (which is then redrawn).
  void note(const std::string& msg);
  // Erase the line (also done by the destructor).
  void clear();

  // The text of the status line as it would be drawn now (for tests).
  std::string line() const;

 private:
  void draw_locked();
  std::string line_locked() const;
  using clock = std::chrono::steady_clock;
  FILE* out_;
  bool active_;
  size_t rows_total_;
  mutable std::mutex mu_;
  size_t rows_done_ = 0;
  std::string label_;
  size_t frames_total_ = 0;
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
