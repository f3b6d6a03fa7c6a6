// The CBF frame source: one file per frame, read whole into the frame's storage and parsed; the payload is a view.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/cbf.hpp"
#include "datasets/cbf_text.hpp"
#include "datasets/frame_source.hpp"

namespace xrd::frames {

void FrameSource::load_into(size_t i, EncodedFrame& frame, const PayloadClaim& claim) const {
  load(i, frame);
  const std::span<uint8_t> dst = claim(frame, frame.payload.size());
  if (!frame.payload.empty()) std::memcpy(dst.data(), frame.payload.data(), frame.payload.size());
  frame.payload = dst;
}

namespace {

// Fills the frame's metadata from a parsed CBF view.
void describe(const cbf::CbfView& v, EncodedFrame& frame) {
  frame.codec = Codec::byte_offset;
  frame.element = v.binary.element_type;
  frame.width = v.binary.width;
  frame.height = v.binary.height;
  frame.payload_offset = v.binary.payload_offset;
  frame.content_md5.reset();
  if (v.binary.content_md5) frame.content_md5 = std::string(cbf::text::trim(*v.binary.content_md5));
}

}  // namespace

CbfFileSource::CbfFileSource(std::vector<std::filesystem::path> files) : files_(std::move(files)) {}

std::string CbfFileSource::origin(size_t i) const { return files_.at(i).string(); }

void CbfFileSource::load(size_t i, EncodedFrame& frame) const {
  const auto& path = files_.at(i);
  frame.index = i;
  frame.origin = path.string();
  const io::ReadMethod m = method_.load();
  if (m == io::ReadMethod::pread) {  // as the paper's readers read: one read() of the whole file
    cbf::read_file(path, frame.storage);
    const cbf::CbfView v = cbf::parse(frame.storage, frame.origin);
    describe(v, frame);
    frame.payload = v.payload;
    return;
  }
  io::FileReader f(frame.origin, m);
  const std::span<uint8_t> bytes = f.read_all(frame.storage);  // direct: an aligned view inside storage
  const cbf::CbfView v = cbf::parse(bytes, frame.origin);
  describe(v, frame);
  frame.payload = v.payload;
}

void CbfFileSource::load_into(size_t i, EncodedFrame& frame, const PayloadClaim& claim) const {
  // Pilatus headers are 1-4 KiB: the first read almost always holds the binary marker; a longer header is read whole.
  constexpr size_t kHead = 16384;
  const auto& path = files_.at(i);
  frame.index = i;
  frame.origin = path.string();
  io::FileReader f(frame.origin, method_.load());
  const uint64_t size = f.size();
  frame.storage.resize(static_cast<size_t>(std::min<uint64_t>(size, kHead)));
  f.read(frame.storage, 0);
  static constexpr uint8_t kMarker[] = {0x0C, 0x1A, 0x04, 0xD5};
  if (size > kHead && std::search(frame.storage.begin(), frame.storage.end(), std::begin(kMarker),
                                  std::end(kMarker)) == frame.storage.end()) {
    load(i, frame);  // an unusually long header: read the whole file, then copy
    const std::span<uint8_t> dst = claim(frame, frame.payload.size());
    std::memcpy(dst.data(), frame.payload.data(), frame.payload.size());
    frame.payload = dst;
    return;
  }
  const cbf::CbfView v = cbf::parse_header(frame.storage, size, frame.origin);
  describe(v, frame);
  if (v.binary.payload_offset + v.binary.binary_size <= frame.storage.size()) {
    // The whole payload came with the header (a small frame): no second read.
    const std::span<uint8_t> dst = claim(frame, v.binary.binary_size);
    std::memcpy(dst.data(), frame.storage.data() + v.binary.payload_offset, dst.size());
    frame.payload = dst;
    return;
  }
  const std::span<uint8_t> dst = claim(frame, v.binary.binary_size);
  f.read(dst, v.binary.payload_offset);
  frame.payload = dst;
}

bool CbfFileSource::load_file_into(size_t i, EncodedFrame& frame, const FileClaim& claim) const {
  const auto& path = files_.at(i);
  frame.index = i;
  frame.origin = path.string();
  io::FileReader f(frame.origin, method_.load());
  const std::span<uint8_t> room = claim(f.room_for_all());
  const std::span<uint8_t> bytes = f.read_all_into(room);
  const cbf::CbfView v = cbf::parse(bytes, frame.origin);
  describe(v, frame);
  frame.payload = v.payload;
  return true;
}

void CbfFileSource::prefetch(size_t i) const {
  // O_DIRECT reads go around the page cache: a readahead would read the file from the disk twice.
  if (i >= files_.size() || method_.load() == io::ReadMethod::direct) return;
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
