// Page-cache residency (mincore), eviction (fadvise DONTNEED, drop_caches) and warming of dataset files.
#include "harness/cache.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/error.hpp"

namespace xrd::harness {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

// Closes the descriptor on every path out, including throws.
struct Fd {
  int fd;
  explicit Fd(const std::filesystem::path& p, int flags) : fd(::open(p.c_str(), flags | O_CLOEXEC)) {
    if (fd < 0) throw Error(p.string(), "open", "cannot open: " + errno_text(errno));
  }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

uint64_t page_size() { return static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)); }

Residency file_residency(const std::filesystem::path& p) {
  Fd f(p, O_RDONLY);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw Error(p.string(), "fstat", errno_text(errno));
  const uint64_t size = static_cast<uint64_t>(st.st_size), ps = page_size();
  Residency r;
  r.total_pages = (size + ps - 1) / ps;
  if (size == 0) return r;
  // Mapping does not fault pages in; mincore() only reports what the page cache already holds.
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, f.fd, 0);
  if (m == MAP_FAILED) throw Error(p.string(), "mmap", "cannot map " + std::to_string(size) + " bytes: " + errno_text(errno));
  std::vector<unsigned char> vec(r.total_pages);
  const int rc = ::mincore(m, size, vec.data());
  const int e = errno;
  ::munmap(m, size);
  if (rc != 0) throw Error(p.string(), "mincore", errno_text(e));
  for (unsigned char c : vec) r.resident_pages += c & 1u;
  return r;
}

// Runs f(path) for every file; an xrd::Error goes to `skipped` when given (the file is left out), else propagates.
template <class F>
void each_file(const std::vector<std::filesystem::path>& files, std::vector<std::string>* skipped, F&& f) {
  for (auto& p : files) {
    try {
      f(p);
    } catch (const Error& e) {
      if (!skipped) throw;
      skipped->push_back(e.what());
    }
  }
}

}  // namespace

double Residency::fraction() const {
  return total_pages ? static_cast<double>(resident_pages) / static_cast<double>(total_pages) : 0.0;
}

std::vector<FileResidency> residency_per_file(const std::vector<std::filesystem::path>& files) {
  std::vector<FileResidency> out;
  out.reserve(files.size());
  for (auto& p : files) out.push_back({p, file_residency(p)});
  return out;
}

Residency residency(const std::vector<std::filesystem::path>& files, std::vector<std::string>* skipped) {
  Residency total;
  each_file(files, skipped, [&](const std::filesystem::path& p) { total += file_residency(p); });
  return total;
}

bool evict(const std::vector<std::filesystem::path>& files, bool drop_caches, std::vector<std::string>* skipped) {
  each_file(files, skipped, [](const std::filesystem::path& p) {
    Fd f(p, O_RDONLY);
    // Dirty pages cannot be dropped: write them back first (a dataset just written by `dataset synth` is dirty).
    if (::fdatasync(f.fd) != 0 && errno != EINVAL && errno != EROFS)
      throw Error(p.string(), "fdatasync", errno_text(errno));
    const int rc = ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_DONTNEED);
    if (rc != 0) throw Error(p.string(), "posix_fadvise(DONTNEED)", errno_text(rc));
  });
  if (!drop_caches || !running_as_root()) return false;
  ::sync();
  const char* path = "/proc/sys/vm/drop_caches";
  FILE* f = std::fopen(path, "w");
  if (!f) throw Error(path, "open", "cannot open for writing: " + errno_text(errno));
  const bool ok = std::fputs("3\n", f) >= 0;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) throw Error(path, "write", "cannot write 3: " + errno_text(errno));
  return true;
}

void warm(const std::vector<std::filesystem::path>& files, std::vector<std::string>* skipped) {
  std::vector<char> buf(1 << 20);
  each_file(files, skipped, [&](const std::filesystem::path& p) {
    Fd f(p, O_RDONLY);
    ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // a hint only: failure changes nothing
    for (;;) {
      const ssize_t n = ::read(f.fd, buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(p.string(), "read", errno_text(errno));
      }
    }
  });
}

std::string filesystem_type(const std::filesystem::path& p) {
  struct statfs s {};
  if (::statfs(p.c_str(), &s) != 0) throw Error(p.string(), "statfs", errno_text(errno));
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext4";  // ext2/3/4 share the magic
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x858458F6: return "ramfs";
    case 0x794C7630: return "overlay";
    case 0x6969: return "nfs";
    case 0x2FC12FC1: return "zfs";
    case 0xF2F52010: return "f2fs";
    case 0x65735546: return "fuse";
    case 0x01021997: return "9p";
    default: {
      char b[32];
      std::snprintf(b, sizeof b, "0x%lx", static_cast<unsigned long>(s.f_type));
      return b;
    }
  }
}

bool eviction_possible(const std::filesystem::path& p) {
  const std::string t = filesystem_type(p);
  return t != "tmpfs" && t != "ramfs";
}

bool running_as_root() { return ::geteuid() == 0; }

std::string eviction_obstacle(const std::vector<std::filesystem::path>& files) {
  if (files.empty()) return "";
  const std::string fs = filesystem_type(files.front());
  if (!eviction_possible(files.front())) return fs + " keeps files in memory only: their pages cannot be evicted";
  if (running_as_root()) return "";
  size_t foreign = 0;
  for (auto& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) == 0 && st.st_uid != ::geteuid()) ++foreign;
  }
  if (foreign == 0) return "";
  return std::to_string(foreign) + " of the files belong to another user: the kernel hides their residency from " +
         "this process (mincore reports them resident), so the eviction cannot be confirmed; run as root or as " +
         "their owner";
}

}  // namespace xrd::harness
