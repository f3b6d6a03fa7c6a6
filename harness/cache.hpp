// Page-cache control for cold and hot runs: how much of a set of files is resident (mmap + mincore), evicting
// them (fdatasync + POSIX_FADV_DONTNEED, optionally /proc/sys/vm/drop_caches) and warming them (read every byte).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace xrd::harness {

// After an eviction, more than this fraction resident means the files are not cold (the bound cold rows are held to).
inline constexpr double kEvictMaxResident = 0.01;

struct Residency {
  uint64_t resident_pages = 0;
  uint64_t total_pages = 0;
  // resident / total; 0.0 when there are no pages at all (empty files only).
  double fraction() const;
  Residency& operator+=(const Residency& o) {
    resident_pages += o.resident_pages;
    total_pages += o.total_pages;
    return *this;
  }
};

struct FileResidency {
  std::filesystem::path path;
  Residency residency;
};

// Resident pages of the files, summed. Throws xrd::Error naming the file when one cannot be opened or mapped; with
// `skipped`, such a file is left out instead and its message appended there (a run reports the frame itself).
Residency residency(const std::vector<std::filesystem::path>& files, std::vector<std::string>* skipped = nullptr);
// The same, one entry per file (same order).
std::vector<FileResidency> residency_per_file(const std::vector<std::filesystem::path>& files);

// fdatasync, then posix_fadvise(POSIX_FADV_DONTNEED) on every file; when drop_caches is asked and the process runs
// as root, also sync() and write 3 to /proc/sys/vm/drop_caches. Returns true when drop_caches was written.
// Throws xrd::Error naming the file (or /proc/sys/vm/drop_caches) on failure; with `skipped`, a file that cannot be
// opened or synced is left out and its message appended there instead. Eviction only works on filesystems backed by
// a device: on tmpfs/ramfs the pages stay (see eviction_possible()); check with residency() afterwards.
bool evict(const std::vector<std::filesystem::path>& files, bool drop_caches = false,
           std::vector<std::string>* skipped = nullptr);

// Read every byte of every file once (through the page cache) so they become resident. Throws xrd::Error naming the
// file on failure; with `skipped`, an unreadable file is left out and its message appended there instead.
void warm(const std::vector<std::filesystem::path>& files, std::vector<std::string>* skipped = nullptr);

// The filesystem type of the path ("ext4", "xfs", "tmpfs", "overlay", ... or "0x<magic>"), from statfs().
std::string filesystem_type(const std::filesystem::path& p);
// False when the path lives on a memory filesystem (tmpfs, ramfs) where pages cannot be evicted.
bool eviction_possible(const std::filesystem::path& p);
// True when the process may write /proc/sys/vm/drop_caches (effective uid 0).
bool running_as_root();

// Why an eviction of these files may not show, or "" when nothing known stands in the way: a memory filesystem
// (tmpfs/ramfs), or files of another user when not root (Linux >= 5.2 hides their page-cache state from mincore(),
// which then reports every page resident).
std::string eviction_obstacle(const std::vector<std::filesystem::path>& files);

}  // namespace xrd::harness
