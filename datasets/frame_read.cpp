// Read methods for frame files (frame_read.hpp).
#include "datasets/frame_read.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef XRD_HAVE_URING
#include <liburing.h>
#endif

#include "base/error.hpp"

namespace xrd::io {

const char* to_string(ReadMethod m) {
  switch (m) {
    case ReadMethod::pread: return "pread";
    case ReadMethod::mmap: return "mmap";
    case ReadMethod::direct: return "direct";
    case ReadMethod::uring: return "uring";
  }
  return "?";
}

const std::vector<ReadMethod>& all_read_methods() {
  static const std::vector<ReadMethod> all{ReadMethod::pread, ReadMethod::mmap, ReadMethod::direct, ReadMethod::uring};
  return all;
}

ReadMethod parse_read_method(const std::string& s, const std::string& field) {
  for (ReadMethod m : all_read_methods())
    if (s == to_string(m)) return m;
  throw Error("", field, "unknown read method '" + s + "' (expected pread, mmap, direct or uring)");
}

namespace {

constexpr size_t kAlign = 4096;           // O_DIRECT: offsets, sizes and addresses on the logical block size
constexpr size_t kBounce = 4u << 20;      // direct: bytes per request through the bounce buffer
constexpr size_t kUringChunk = 512u << 10;  // uring: bytes per request
constexpr unsigned kUringDepth = 16;        // uring: requests in flight per reader

uint64_t align_down(uint64_t v) { return v & ~uint64_t(kAlign - 1); }
uint64_t align_up(uint64_t v) { return align_down(v + kAlign - 1); }

// The first fallback of each method is said once per process; later ones only in FileReader::fallback().
void note_once(ReadMethod m, const std::string& why) {
  static std::mutex mu;
  static bool said[4] = {};
  std::lock_guard<std::mutex> l(mu);
  if (said[static_cast<int>(m)]) return;
  said[static_cast<int>(m)] = true;
  std::fprintf(stderr, "read method %s: %s; reading with pread\n", to_string(m), why.c_str());
}

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

// direct: one aligned bounce buffer per thread.
uint8_t* bounce() {
  thread_local std::unique_ptr<uint8_t, FreeDeleter> buf(static_cast<uint8_t*>(std::aligned_alloc(kAlign, kBounce)));
  if (!buf) throw Error("", "", "cannot allocate the O_DIRECT bounce buffer");
  return buf.get();
}

#ifdef XRD_HAVE_URING
// uring: one ring per reader thread, made on first use; err != 0 once it could not be made.
struct Ring {
  io_uring ring{};
  int err = -1;  // -1: not tried yet
  ~Ring() {
    if (err == 0) io_uring_queue_exit(&ring);
  }
  bool ok() {
    if (err < 0) err = -io_uring_queue_init(kUringDepth, &ring, 0);
    return err == 0;
  }
};
Ring& thread_ring() {
  thread_local Ring r;
  return r;
}
#endif

}  // namespace

bool uring_available() {
#ifdef XRD_HAVE_URING
  return thread_ring().ok();
#else
  return false;
#endif
}

FileReader::FileReader(const std::string& path, ReadMethod m) : path_(path), method_(m) {
  if (m == ReadMethod::direct) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
    if (fd_ < 0 && errno == EINVAL)
      fall_back("O_DIRECT refused by the file system of " + path + " (tmpfs before Linux 6.6, procfs and some others do not support it)");
  }
  if (fd_ < 0) fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(path, "", std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw Error(path, "", std::string("cannot stat: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(path, "", "not a regular file: expected a CBF file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (method_ == ReadMethod::mmap && size_ > 0) {
    map_ = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED | MAP_POPULATE, fd_, 0);
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      fall_back(std::string("mmap of ") + path + " failed (" + std::strerror(errno) + ")");
    } else {
      ::madvise(map_, size_, MADV_SEQUENTIAL);
    }
  }
  if (method_ == ReadMethod::uring && !uring_available())
    fall_back("io_uring is not available here (liburing not built in, or the kernel refuses rings: "
              "/proc/sys/kernel/io_uring_disabled, a seccomp filter)");
}

FileReader::~FileReader() {
  if (map_) ::munmap(map_, size_);
  if (fd_ >= 0) ::close(fd_);
}

void FileReader::fall_back(std::string why) {
  note_once(method_, why);
  fallback_ = std::move(why);
  method_ = ReadMethod::pread;
  if (map_) {
    ::munmap(map_, size_);
    map_ = nullptr;
  }
}

void FileReader::read_pread(std::span<uint8_t> dst, uint64_t offset) {
  size_t got = 0;
  while (got < dst.size()) {
    const ssize_t n = ::pread(fd_, dst.data() + got, dst.size() - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path_, Error::at_byte(offset + got), std::string("read failed: ") + std::strerror(errno));
    if (n == 0)
      throw Error(path_, Error::at_byte(offset + got),
                  "the file ended early (truncated, or it shrank while being read): expected " +
                      std::to_string(dst.size() - got) + " more bytes");
    got += static_cast<size_t>(n);
  }
}

// Aligned requests of at most kBounce bytes into the bounce buffer, the wanted part copied out.
void FileReader::read_direct(std::span<uint8_t> dst, uint64_t offset) {
  uint8_t* buf = bounce();
  uint64_t pos = offset;
  const uint64_t end = offset + dst.size();
  while (pos < end) {
    const uint64_t a0 = align_down(pos);
    const uint64_t a1 = std::min<uint64_t>(align_up(end), a0 + kBounce);
    ssize_t n;
    do n = ::pread(fd_, buf, a1 - a0, static_cast<off_t>(a0));
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EINVAL) {  // the file system accepted O_DIRECT at open, not for reads
      fall_back("O_DIRECT reads refused on " + path_ + " (EINVAL)");
      ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_DIRECT);
      read_pread(dst.subspan(pos - offset), pos);
      return;
    }
    if (n < 0) throw Error(path_, Error::at_byte(pos), std::string("read failed: ") + std::strerror(errno));
    const uint64_t have = a0 + static_cast<uint64_t>(n);  // the file's bytes [a0, have) are in buf
    if (have <= pos)
      throw Error(path_, Error::at_byte(std::max(have, a0)),
                  "the file ended early (truncated, or it shrank while being read): expected " +
                      std::to_string(end - pos) + " more bytes");
    const uint64_t upto = std::min(end, have);
    std::memcpy(dst.data() + (pos - offset), buf + (pos - a0), upto - pos);
    pos = upto;
  }
}

bool FileReader::read_uring(std::span<uint8_t> dst, uint64_t offset) {
#ifdef XRD_HAVE_URING
  Ring& r = thread_ring();
  if (!r.ok()) return false;
  io_uring* ring = &r.ring;
  const size_t chunks = (dst.size() + kUringChunk - 1) / kUringChunk;
  size_t submitted = 0, done = 0;
  std::vector<size_t> tails;  // chunks that came back short: finished with pread below
  std::string failure;
  uint64_t failure_at = 0;
  while (done < chunks) {
    unsigned queued = 0;
    while (submitted < chunks && submitted - done < kUringDepth) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      if (!sqe) break;
      const size_t at = submitted * kUringChunk;
      const size_t len = std::min(kUringChunk, dst.size() - at);
      io_uring_prep_read(sqe, fd_, dst.data() + at, static_cast<unsigned>(len), offset + at);
      io_uring_sqe_set_data64(sqe, submitted);
      ++submitted;
      ++queued;
    }
    if (queued) {
      int rc;
      do rc = io_uring_submit(ring);
      while (rc == -EINTR);
      if (rc < 0) throw Error(path_, Error::at_byte(offset), std::string("io_uring submit failed: ") + std::strerror(-rc));
    }
    io_uring_cqe* cqe = nullptr;
    int rc;
    do rc = io_uring_wait_cqe(ring, &cqe);
    while (rc == -EINTR);
    if (rc < 0) throw Error(path_, Error::at_byte(offset), std::string("io_uring wait failed: ") + std::strerror(-rc));
    const size_t k = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
    const int res = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    ++done;
    const size_t len = std::min(kUringChunk, dst.size() - k * kUringChunk);
    if (res < 0 && failure.empty() && res != -EAGAIN && res != -EINTR) {
      failure = std::string("read failed: ") + std::strerror(-res);
      failure_at = offset + k * kUringChunk;
    } else if (res < 0 || static_cast<size_t>(res) < len) {
      tails.push_back(k);  // short (end of file, a signal): pread finishes it and says where the file ended
    }
  }
  if (!failure.empty()) throw Error(path_, Error::at_byte(failure_at), failure);
  std::sort(tails.begin(), tails.end());
  for (size_t k : tails) {  // re-read the chunk whole: pread throws at the byte where the file ended
    const size_t at = k * kUringChunk;
    read_pread(dst.subspan(at, std::min(kUringChunk, dst.size() - at)), offset + at);
  }
  return true;
#else
  (void)dst;
  (void)offset;
  return false;
#endif
}

void FileReader::read(std::span<uint8_t> dst, uint64_t offset) {
  if (dst.empty()) return;
  switch (method_) {
    case ReadMethod::mmap:
      if (offset + dst.size() > size_)
        throw Error(path_, Error::at_byte(std::max(size_, offset)),
                    "the file ended early (truncated): expected " + std::to_string(offset + dst.size() - std::max(size_, offset)) +
                        " more bytes");
      std::memcpy(dst.data(), static_cast<const uint8_t*>(map_) + offset, dst.size());
      return;
    case ReadMethod::direct:
      read_direct(dst, offset);
      return;
    case ReadMethod::uring:
      if (read_uring(dst, offset)) return;
      fall_back("io_uring ring unavailable in this thread");
      break;
    case ReadMethod::pread:
      break;
  }
  read_pread(dst, offset);
}

size_t FileReader::room_for_all() const {
  return method_ == ReadMethod::direct ? static_cast<size_t>(align_up(size_)) + kAlign : static_cast<size_t>(size_);
}

std::span<uint8_t> FileReader::read_all(std::vector<uint8_t>& storage) {
  storage.resize(room_for_all());  // keeps capacity: no reallocation when frames have similar sizes
  return read_all_into(storage);
}

std::span<uint8_t> FileReader::read_all_into(std::span<uint8_t> room) {
  const size_t need = room_for_all();
  if (room.size() < need)
    throw Error(path_, "", "no room to read the whole file: " + std::to_string(need) + " bytes needed, " +
                               std::to_string(room.size()) + " given");
  if (method_ != ReadMethod::direct) {
    read(room.first(static_cast<size_t>(size_)), 0);
    return room.first(static_cast<size_t>(size_));
  }
  // direct, whole file: aligned requests straight into the room's first aligned address (no bounce, no copy).
  const size_t body = static_cast<size_t>(align_up(size_));
  uint8_t* base = room.data();
  uint8_t* at = reinterpret_cast<uint8_t*>(align_up(reinterpret_cast<uintptr_t>(base)));
  uint64_t got = 0;
  while (got < size_) {
    ssize_t n;
    do n = ::pread(fd_, at + got, std::min<uint64_t>(body - got, kBounce), static_cast<off_t>(got));
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EINVAL) {
      fall_back("O_DIRECT reads refused on " + path_ + " (EINVAL)");
      ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_DIRECT);
      read_pread({at + got, static_cast<size_t>(size_ - got)}, got);
      break;
    }
    if (n < 0) throw Error(path_, Error::at_byte(got), std::string("read failed: ") + std::strerror(errno));
    if (n == 0)
      throw Error(path_, Error::at_byte(got),
                  "the file ended early (it shrank while being read): expected " + std::to_string(size_ - got) +
                      " more bytes");
    got += static_cast<uint64_t>(n);
  }
  return {at, static_cast<size_t>(size_)};
}

}  // namespace xrd::io
