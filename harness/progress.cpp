// Progress: a throttled, self-erasing status line on a terminal.
#include "harness/progress.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <cmath>
#include <unistd.h>

namespace xrd::harness {
namespace {
constexpr int64_t kMinRedrawNs = 200'000'000;  // ~5 redraws per second: cheap, and still readable

size_t terminal_width(FILE* out) {
  struct winsize w {};
  if (::ioctl(::fileno(out), TIOCGWINSZ, &w) == 0 && w.ws_col > 10) return w.ws_col;
  return 100;
}
}  // namespace

Progress::Progress(size_t rows_total, FILE* out, bool force)
    : out_(out), active_(out && (force || ::isatty(::fileno(out)))), rows_total_(rows_total) {
  row_start_ = rate_t_ = table_start_ = clock::now();
}

Progress::~Progress() { clear(); }

void Progress::start_row(size_t rows_done, std::string label, size_t frames_total, size_t step, size_t steps) {
  std::lock_guard lk(mu_);
  rows_done_ = rows_done;
  steps_ = steps > 0 ? steps : 1;
  step_ = step < steps_ ? step : steps_ - 1;
  label_ = std::move(label);
  frames_total_ = frames_total;
  frames_done_.store(0, std::memory_order_relaxed);
  row_start_ = rate_t_ = clock::now();
  rate_frames_ = 0;
  fps_ = 0;
  if (active_) draw_locked();
}

void Progress::add_frames(size_t n) {
  frames_done_.fetch_add(n, std::memory_order_relaxed);
  if (!active_) return;
  const int64_t now = clock::now().time_since_epoch().count();
  int64_t last = last_draw_ns_.load(std::memory_order_relaxed);
  if (now - last < kMinRedrawNs) return;
  // One thread wins the right to draw; the others go back to work at once.
  if (!last_draw_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  std::unique_lock lk(mu_, std::try_to_lock);
  if (lk.owns_lock()) draw_locked();
}

void Progress::note(const std::string& msg) {
  std::lock_guard lk(mu_);
  if (!active_) return;
  if (drawn_) std::fprintf(out_, "\r%*s\r", static_cast<int>(drawn_width_), "");
  drawn_ = false;
  std::fprintf(out_, "%s\n", msg.c_str());
  draw_locked();
}

void Progress::clear() {
  std::lock_guard lk(mu_);
  if (!active_ || !drawn_) return;
  std::fprintf(out_, "\r%*s\r", static_cast<int>(drawn_width_), "");
  std::fflush(out_);
  drawn_ = false;
  drawn_width_ = 0;
}

std::string Progress::line() const {
  std::lock_guard lk(mu_);
  return line_locked();
}

double Progress::fraction_done() const {
  std::lock_guard lk(mu_);
  return fraction_locked();
}

double Progress::fraction_locked() const {
  if (rows_total_ == 0) return 0;
  const size_t done = frames_done_.load(std::memory_order_relaxed);
  const double pass = frames_total_ ? std::min(1.0, static_cast<double>(done) / static_cast<double>(frames_total_)) : 0;
  const double row = (static_cast<double>(step_) + pass) / static_cast<double>(steps_);
  return std::min(1.0, (static_cast<double>(rows_done_) + row) / static_cast<double>(rows_total_));
}

std::string Progress::format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const long s = std::lround(seconds);
  char b[32];
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(b, sizeof b, "%ld:%02ld", s / 60, s % 60);
  return b;
}

std::string Progress::line_locked() const {
  const size_t done = frames_done_.load(std::memory_order_relaxed);
  double fps = fps_;
  if (fps == 0) {
    const double dt = std::chrono::duration<double>(clock::now() - row_start_).count();
    if (dt > 0 && done) fps = static_cast<double>(done) / dt;
  }
  // ETA of the whole table: elapsed time scaled by what is left, once there is something to scale (rows differ in
  // speed, so it firms up as rows finish).
  const double elapsed = std::chrono::duration<double>(clock::now() - table_start_).count();
  const double f = fraction_locked();
  const std::string eta = f >= 0.01 && elapsed >= 1.0 ? format_duration(elapsed * (1.0 - f) / f) : "--:--";
  char b[320];
  // Times first: a narrow terminal cuts the end of the line.
  std::snprintf(b, sizeof b, "[%zu/%zu rows] elapsed %s ETA %s  %s  frames %zu/%zu  %.1f fps", rows_done_,
                rows_total_, format_duration(elapsed).c_str(), eta.c_str(), label_.c_str(), done, frames_total_, fps);
  return b;
}

void Progress::draw_locked() {
  const auto now = clock::now();
  const size_t done = frames_done_.load(std::memory_order_relaxed);
  const double dt = std::chrono::duration<double>(now - rate_t_).count();
  // fps over the last redraw interval: what the pipeline does now, not the average since the row began.
  if (dt >= 0.15 && done >= rate_frames_) {
    fps_ = static_cast<double>(done - rate_frames_) / dt;
    rate_t_ = now;
    rate_frames_ = done;
  }
  std::string text = line_locked();
  const size_t width = terminal_width(out_) - 1;  // never wrap: \r only returns to the start of the last line
  if (text.size() > width) text.resize(width);
  const size_t pad = drawn_width_ > text.size() ? drawn_width_ - text.size() : 0;
  std::fprintf(out_, "\r%s%*s", text.c_str(), static_cast<int>(pad), "");
  std::fflush(out_);
  drawn_ = true;
  drawn_width_ = text.size();
  last_draw_ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
}

}  // namespace xrd::harness
