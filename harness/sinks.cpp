#include "harness/sinks.hpp"

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

H5File::H5File(std::filesystem::path path, h5::NxLayout layout) : path_(std::move(path)), layout_(std::move(layout)) {
  std::error_code ec;
  std::filesystem::create_directories(path_.parent_path(), ec);
  if (ec) throw Error(path_.parent_path().string(), "", "cannot create the folder: " + ec.message());
}

void H5File::open() {
  writer_.reset();
  write_error.clear();
  writer_ = std::make_unique<h5::NxWriter>(path_, layout_);
}

void H5File::close() {
  auto w = std::move(writer_);
  if (w) w->close();
}

bool H5File::discard() {
  writer_.reset();
  std::error_code ec;
  return std::filesystem::remove(path_, ec);
}

void H5File::pattern(size_t frame, const integration::Pattern& p) {
  if (!writer_ || !write_error.empty()) return;
  try {
    writer_->write(frame, p);
  } catch (const std::exception& e) {
    write_error = e.what();
  }
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
