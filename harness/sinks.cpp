#include "harness/sinks.hpp"

#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "base/error.hpp"

namespace xrd::harness::sinks {

void Tally::reset(size_t frames) {
  ok = failed = 0;
  errors.clear();
  failed_frames.assign(frames, 0);
}

void Tally::pattern(size_t, const integration::Pattern&) {
  ++ok;
  if (progress_) progress_->add_frames();
}

void Tally::error(size_t frame, const std::string& file, const std::string& reason) {
  ++failed;
  if (frame < failed_frames.size()) failed_frames[frame] = 1;
  if (errors.size() < kMaxListedErrors) errors.push_back({file, reason});
  if (progress_) progress_->add_frames();
}

H5File::H5File(std::filesystem::path path, h5::NxLayout layout, size_t queue_bytes)
    : path_(std::move(path)), layout_(std::move(layout)), queue_bytes_(queue_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path_.parent_path(), ec);
  if (ec) throw Error(path_.parent_path().string(), "", "cannot create the folder: " + ec.message());
}

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

size_t pattern_bytes(const integration::Pattern& p) {
  return (p.intensity.size() + p.sigma.size() + p.count.size()) * sizeof(double);
}

}  // namespace

H5File::~H5File() { stop_thread(); }

void H5File::open() {
  stop_thread();
  writer_.reset();
  write_error.clear();
  async_error_.clear();
  stats_ = {};
  const auto t0 = Clock::now();
  writer_ = std::make_unique<h5::NxWriter>(path_, layout_);
  stats_.open_ms = ms_since(t0);
  closing_ = false;
  queued_bytes_ = 0;
  thread_ = std::thread([this] { writer_loop(); });
}

H5File::Stats H5File::stats() const {
  std::lock_guard lock(const_cast<std::mutex&>(mutex_));
  return stats_;
}

// The writer thread: it takes every pattern queued at once, sorts them by frame and writes each run of consecutive
// frames with one NxWriter::write_rows (one HDF5 write per dataset and run: per-frame writes cost ~4 HDF5 calls per
// frame, which at GPU rates is a core). The first failed write stops the writing (the rest is dropped) and is
// reported by close().
void H5File::writer_loop() {
  std::vector<std::pair<size_t, integration::Pattern>> taken;
  std::vector<double> intensity, sigma, count;
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_get_.wait_for(lock, kMaxDelay, [&] { return closing_ || queue_.size() >= kWriteRun; });
    if (queue_.empty()) {
      if (closing_) return;  // closing and drained
      continue;              // nothing came in kMaxDelay
    }
    taken.clear();
    while (!queue_.empty()) {
      queued_bytes_ -= std::min(queued_bytes_, pattern_bytes(queue_.front().second));
      taken.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    ++stats_.wakes;
    busy_ = true;
    const auto t_write = Clock::now();
    cv_put_.notify_all();  // room in the queue again while these are written
    lock.unlock();
    std::sort(taken.begin(), taken.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string err;
    try {
      for (size_t i = 0; i < taken.size();) {
        const integration::Pattern& p0 = taken[i].second;
        const bool with_sigma = !p0.sigma.empty(), with_count = !p0.count.empty();
        size_t j = i + 1;  // the run: consecutive frames, the same bins and the same optional rows
        while (j < taken.size() && taken[j].first == taken[j - 1].first + 1 &&
               taken[j].second.intensity.size() == p0.intensity.size() &&
               taken[j].second.sigma.empty() != with_sigma && taken[j].second.count.empty() != with_count)
          ++j;
        if (j == i + 1) {
          writer_->write(taken[i].first, p0);
        } else {
          intensity.clear(), sigma.clear(), count.clear();
          for (size_t k = i; k < j; ++k) {
            const integration::Pattern& p = taken[k].second;
            intensity.insert(intensity.end(), p.intensity.begin(), p.intensity.end());
            if (with_sigma) sigma.insert(sigma.end(), p.sigma.begin(), p.sigma.end());
            if (with_count) count.insert(count.end(), p.count.begin(), p.count.end());
          }
          writer_->write_rows(taken[i].first, j - i, intensity, sigma, count);
        }
        i = j;
      }
    } catch (const std::exception& e) {
      err = e.what();
    }
    const double written_ms = ms_since(t_write);
    lock.lock();
    stats_.write_ms += written_ms;
    busy_ = false;
    if (!err.empty() && async_error_.empty()) async_error_ = err;
    if (!async_error_.empty()) queue_.clear();
    for (auto& t : taken) spare_.push_back(std::move(t.second));
    cv_put_.notify_all();
  }
}

void H5File::stop_thread() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  cv_get_.notify_all();
  thread_.join();
  std::lock_guard lock(mutex_);
  queue_.clear();
  if (write_error.empty()) write_error = async_error_;
}

void H5File::close() {
  const auto t0 = Clock::now();
  stop_thread();  // every queued pattern written (or the first error kept)
  const auto t1 = Clock::now();
  auto w = std::move(writer_);
  if (w) w->close();
  {
    std::lock_guard lock(mutex_);
    stats_.drain_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    stats_.close_ms = ms_since(t1);
  }
  if (std::getenv("XRD_DEBUG_SINK")) {
    const Stats s = stats();
    std::fprintf(stderr,
                 "[sink] %s: %zu patterns, open %.2f ms, delivering threads waited %.2f ms, writer wrote %.2f ms in "
                 "%zu wakes (at most %zu queued), close drained %.2f ms + closed %.2f ms\n",
                 path_.filename().string().c_str(), s.patterns, s.open_ms, s.put_wait_ms, s.write_ms, s.wakes,
                 s.max_queued, s.drain_ms, s.close_ms);
  }
}

bool H5File::discard() {
  {
    std::lock_guard lock(mutex_);
    queue_.clear();  // nothing more to write: the file goes
  }
  stop_thread();
  writer_.reset();
  std::error_code ec;
  return std::filesystem::remove(path_, ec);
}

void H5File::pattern(size_t frame, const integration::Pattern& p) {
  if (!writer_ || !thread_.joinable()) return;
  const size_t bytes = pattern_bytes(p);
  std::unique_lock lock(mutex_);
  const auto room = [&] { return queued_bytes_ + bytes <= queue_bytes_ || queue_.empty() || !async_error_.empty(); };
  if (!room()) {
    const auto t0 = Clock::now();
    cv_put_.wait(lock, room);
    stats_.put_wait_ms += ms_since(t0);
  }
  if (!async_error_.empty()) return;
  queued_bytes_ += bytes;  // counted before the copy: room for it is taken
  integration::Pattern copy;
  if (!spare_.empty()) {
    copy = std::move(spare_.back());
    spare_.pop_back();
  }
  lock.unlock();
  // Outside the lock; only what the file holds (vectors' assignment reuses their capacity).
  copy.intensity = p.intensity;
  copy.sigma = p.sigma;
  copy.count = p.count;
  lock.lock();
  queue_.emplace_back(frame, std::move(copy));
  ++stats_.patterns;
  stats_.max_queued = std::max(stats_.max_queued, queue_.size());
  if (queue_.size() == kWriteRun) cv_get_.notify_one();  // else the writer looks within kMaxDelay
}

void TextFile::pattern(size_t, const integration::Pattern& p) {
  if (!write_error.empty()) return;
  try {
    write_(p);
    ++written;
  } catch (const std::exception& e) {
    write_error = e.what();
  }
}

RunSinks::RunSinks(SinkOptions o) : tally_(o.progress), h5_(std::move(o.h5)), text_(std::move(o.text)) {
  // The order of the old composite sink: keep, write, then count (the progress line moves once the frame is stored).
  if (o.keep) {
    keep_ = std::make_unique<Keep>(*o.keep);
    all_.add(keep_.get());
  }
  if (h5_) all_.add(h5_.get());
  if (text_) all_.add(text_.get());
  if (!o.keep && !h5_ && !text_) all_.add(&discard_);
  all_.add(&tally_);
}

void RunSinks::reset(size_t frames) {
  tally_.reset(frames);
  if (h5_) h5_->write_error.clear();
  if (text_) text_->write_error.clear();
}

std::string RunSinks::write_error() const {
  if (h5_ && !h5_->write_error.empty()) return h5_->write_error;
  if (text_ && !text_->write_error.empty()) return text_->write_error;
  return {};
}

}  // namespace xrd::harness::sinks
