// The CBF frame source: one file per frame, read whole into the frame's storage and parsed; the payload is a view.
#include <algorithm>

#include <fcntl.h>
#include <unistd.h>

#include "datasets/cbf.hpp"
#include "datasets/cbf_text.hpp"
#include "datasets/frame_source.hpp"

namespace xrd::frames {

CbfFileSource::CbfFileSource(std::vector<std::filesystem::path> files) : files_(std::move(files)) {}

std::string CbfFileSource::origin(size_t i) const { return files_.at(i).string(); }

void CbfFileSource::load(size_t i, EncodedFrame& frame) const {
  const auto& path = files_.at(i);
  frame.index = i;
  frame.origin = path.string();
  cbf::read_file(path, frame.storage);
  const cbf::CbfView v = cbf::parse(frame.storage, frame.origin);
  frame.codec = Codec::byte_offset;
  frame.element = v.binary.element_type;
  frame.width = v.binary.width;
  frame.height = v.binary.height;
  frame.payload_offset = v.binary.payload_offset;
  frame.content_md5.reset();
  if (v.binary.content_md5) frame.content_md5 = std::string(cbf::text::trim(*v.binary.content_md5));
  frame.payload = v.payload;
}

void CbfFileSource::prefetch(size_t i) const {
  if (i >= files_.size()) return;
  const int fd = ::open(files_[i].c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
  ::close(fd);
}

size_t CbfFileSource::max_frame_bytes() const {
  size_t m = 0;
  std::error_code ec;
  for (const auto& f : files_) {
    const auto n = std::filesystem::file_size(f, ec);
    if (!ec) m = std::max<size_t>(m, n);
  }
  return m;
}

}  // namespace xrd::frames
