#include "harness/sinks.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <span>
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
  closing_ = false;
  queued_bytes_ = 0;
  thread_ = std::thread([this] { writer_loop(); });
}

H5File::Stats H5File::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

namespace {

// A file chunk's frames collected by the writer thread until all of them are settled (delivered, or failed: then
// written), rows prefilled with NaN (the file's fill value: a row not delivered, or delivered without sigma, reads the
// same).
struct ChunkRows {
  static constexpr uint8_t kDelivered = 1, kFailed = 2;
  size_t first = 0, frames = 0, have = 0;  // have: frames settled
  bool with_sigma = false, with_count = false;
  std::vector<double> intensity, sigma, count;
  std::vector<uint8_t> present;  // per frame: 0, kDelivered or kFailed
  void reset(size_t first_frame, size_t n, size_t bins) {
    first = first_frame, frames = n, have = 0;
    with_sigma = with_count = false;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    intensity.assign(n * bins, nan), sigma.assign(n * bins, nan), count.assign(n * bins, nan);
    present.assign(n, 0);
  }
};

}  // namespace

// The writer thread. It creates the file first (off the delivering thread: ~1-8 ms with a row's source names, which
// overlap the strategy's start; a failure is kept and reported by close()), then takes every pattern queued at once
// and copies each into its file chunk's rows; a chunk whose frames are all there is written with one
// NxWriter::write_rows (one HDF5 write per dataset per 32 frames, whatever order the frames came in: two device
// engines deliver batches of 12 interleaved). When closing, the chunks still incomplete (failed frames, a partial run)
// are written as their runs of delivered frames. The first failed write stops the writing (the rest is dropped) and
// is reported by close().
void H5File::writer_loop() {
  std::string err;
  const auto t_open = Clock::now();
  try {
    auto w = std::make_unique<h5::NxWriter>(path_, layout_);
    std::lock_guard lock(mutex_);
    writer_ = std::move(w);
    stats_.open_ms = ms_since(t_open);
  } catch (const std::exception& e) {
    err = e.what();
  }
  if (!err.empty()) {
    std::lock_guard lock(mutex_);
    async_error_ = err;
    queue_.clear();
    queued_bytes_ = 0;
    cv_put_.notify_all();
    return;
  }
  h5::NxWriter& w = *writer_;
  const size_t bins = w.bins();
  std::vector<Item> taken;
  std::map<size_t, ChunkRows> open;  // by first frame
  size_t settled_chunks = 0, close_chunks = 0;
  std::vector<ChunkRows> spare_chunks;
  const auto write_chunk = [&](ChunkRows& c) {
    if (std::all_of(c.present.begin(), c.present.end(), [](uint8_t v) { return v == ChunkRows::kDelivered; })) {
      w.write_rows(c.first, c.frames, c.intensity, c.with_sigma ? c.sigma : std::span<const double>{},
                   c.with_count ? c.count : std::span<const double>{});
      return;
    }
    for (size_t i = 0; i < c.frames;) {  // runs of delivered frames (failed and missing ones stay NaN, valid 0)
      if (c.present[i] != ChunkRows::kDelivered) {
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < c.frames && c.present[j] == ChunkRows::kDelivered) ++j;
      const auto rows = [&](const std::vector<double>& v, bool with) {
        return with ? std::span<const double>(v.data() + i * bins, (j - i) * bins) : std::span<const double>{};
      };
      w.write_rows(c.first + i, j - i, rows(c.intensity, true), rows(c.sigma, c.with_sigma),
                   rows(c.count, c.with_count));
      i = j;
    }
  };
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_get_.wait_for(lock, kMaxDelay, [&] { return closing_ || queue_.size() >= kWriteRun; });
    const bool last = closing_;
    if (queue_.empty() && !last) continue;  // nothing came in kMaxDelay
    taken.clear();
    while (!queue_.empty()) {
      queued_bytes_ -= std::min(queued_bytes_, pattern_bytes(queue_.front().pattern));
      taken.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    ++stats_.wakes;
    cv_put_.notify_all();  // room in the queue again while these are written
    lock.unlock();
    const auto t_write = Clock::now();
    try {
      for (const Item& item : taken) {
        const size_t frame = item.frame;
        const integration::Pattern& p = item.pattern;
        if (item.failed && frame >= w.frames()) continue;
        if (!item.failed && (p.intensity.size() != bins || (!p.sigma.empty() && p.sigma.size() != bins) ||
                             (!p.count.empty() && p.count.size() != bins) || frame >= w.frames())) {
          w.write(frame, p);  // not a row of this file: write() says why (throws)
          continue;
        }
        const auto [first, n] = w.chunk_of(frame);
        auto it = open.find(first);
        if (it == open.end()) {
          ChunkRows c;
          if (!spare_chunks.empty()) c = std::move(spare_chunks.back()), spare_chunks.pop_back();
          c.reset(first, n, bins);
          it = open.emplace(first, std::move(c)).first;
        }
        ChunkRows& c = it->second;
        const size_t row = frame - first;
        if (item.failed) {
          if (!c.present[row]) c.present[row] = ChunkRows::kFailed, ++c.have;
        } else {
          const auto at = static_cast<ptrdiff_t>(row * bins);
          std::copy(p.intensity.begin(), p.intensity.end(), c.intensity.begin() + at);
          if (!p.sigma.empty()) std::copy(p.sigma.begin(), p.sigma.end(), c.sigma.begin() + at), c.with_sigma = true;
          if (!p.count.empty()) std::copy(p.count.begin(), p.count.end(), c.count.begin() + at), c.with_count = true;
          if (!c.present[row]) ++c.have;
          c.present[row] = ChunkRows::kDelivered;
        }
        if (c.have == c.frames) {
          write_chunk(c);
          ++settled_chunks;
          spare_chunks.push_back(std::move(c));
          open.erase(it);
        }
      }
      if (last) {
        for (auto& [first, c] : open) write_chunk(c), ++close_chunks;
        open.clear();
      }
    } catch (const std::exception& e) {
      err = e.what();
    }
    const double written_ms = ms_since(t_write);
    lock.lock();
    stats_.write_ms += written_ms;
    stats_.chunks_settled = settled_chunks, stats_.chunks_at_close = close_chunks;
    if (!err.empty() && async_error_.empty()) async_error_ = err;
    for (auto& t : taken)
      if (!t.failed) spare_.push_back(std::move(t.pattern));
    cv_put_.notify_all();
    if (!async_error_.empty()) {  // nothing more is written: the queue is emptied and pattern() drops
      queue_.clear();
      queued_bytes_ = 0;
      open.clear();
    }
    if (last) return;
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
  if (!thread_.joinable()) return;  // not open
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
  queue_.push_back(Item{frame, false, std::move(copy)});
  ++stats_.patterns;
  stats_.max_queued = std::max(stats_.max_queued, queue_.size());
  if (queue_.size() == kWriteRun) cv_get_.notify_one();  // else the writer looks within kMaxDelay
}

void H5File::error(size_t frame, const std::string&, const std::string&) {
  if (!thread_.joinable()) return;  // not open
  std::lock_guard lock(mutex_);
  if (!async_error_.empty()) return;
  queue_.push_back(Item{frame, true, {}});
  if (queue_.size() == kWriteRun) cv_get_.notify_one();
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
